import fc from 'fast-check';
import { getCountries, getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { isE164, normalizePhone, PhoneNormalizer, redactPhone } from '../../../src/sms/phone';

const us = new PhoneNormalizer({ defaultCountry: 'US' });

describe('PhoneNormalizer', () => {
  it.each([
    '(415) 555-0123',
    '415.555.0123',
    '+1 415 555 0123',
    '1-415-555-0123',
    '+1-415-555-0123',
    'tel:+1-415-555-0123',
  ])('normalises %s to +14155550123', (input) => {
    expect(us.normalize(input)).toEqual({
      ok: true,
      e164: '+14155550123',
      country: 'US',
      type: 'FIXED_LINE_OR_MOBILE',
    });
  });

  it('uses the default country only for national input', () => {
    const fr = new PhoneNormalizer({ defaultCountry: 'FR' });
    expect(fr.normalize('06 12 34 56 78')).toMatchObject({ ok: true, e164: '+33612345678', country: 'FR' });
    expect(fr.normalize('+1 415 555 0123')).toMatchObject({ ok: true, e164: '+14155550123' });
    expect(new PhoneNormalizer().normalize('4155550123')).toMatchObject({ ok: false, code: 'SMS_PHONE_INVALID' });
  });

  it('rejects empty and invalid input with stable codes', () => {
    expect(us.normalize('  ')).toMatchObject({ ok: false, code: 'SMS_PHONE_EMPTY' });
    expect(us.normalize('hello')).toMatchObject({ ok: false, code: 'SMS_PHONE_INVALID' });
    expect(us.normalize('+1 415 555')).toMatchObject({ ok: false, code: 'SMS_PHONE_INVALID' });
  });

  it('rejects numbers outside the numbering plan unless validation is "possible"', () => {
    expect(us.normalize('+15551234567')).toMatchObject({ ok: false, code: 'SMS_PHONE_INVALID' });
    const lenient = new PhoneNormalizer({ defaultCountry: 'US', validation: 'possible' });
    expect(lenient.normalize('+1 (555) 123-4567')).toEqual({
      ok: true,
      e164: '+15551234567',
      country: undefined,
      type: undefined,
    });
  });

  it.each([
    ['911', 'US'],
    ['+1 911', 'US'],
    ['112', 'DE'],
    ['999', 'GB'],
    ['000', 'AU'],
    ['988', 'US'],
    ['1-1-2', 'FR'],
  ] as [string, CountryCode][])('blocks the emergency number %s (default %s)', (input, defaultCountry) => {
    expect(new PhoneNormalizer({ defaultCountry }).normalize(input)).toMatchObject({
      ok: false,
      code: 'SMS_PHONE_EMERGENCY',
    });
  });

  it('blocks premium-rate numbers unless told not to', () => {
    expect(us.normalize('+1 900 555 0199')).toMatchObject({ ok: false, code: 'SMS_PHONE_PREMIUM_RATE' });
    expect(us.normalize('+44 909 879 0000')).toMatchObject({ ok: false, code: 'SMS_PHONE_PREMIUM_RATE' });
    expect(new PhoneNormalizer({ blockPremiumRate: false }).normalize('+19005550199')).toMatchObject({
      ok: true,
      type: 'PREMIUM_RATE',
    });
  });

  it('blocks and allows countries', () => {
    const noFr = new PhoneNormalizer({ blockedCountries: ['fr'] });
    expect(noFr.normalize('+33612345678')).toMatchObject({ ok: false, code: 'SMS_PHONE_COUNTRY_BLOCKED' });
    expect(noFr.normalize('+14155550123')).toMatchObject({ ok: true });

    const onlyUsCa = new PhoneNormalizer({ allowedCountries: ['US', 'CA'], validation: 'possible' });
    expect(onlyUsCa.normalize('+14155550123')).toMatchObject({ ok: true, country: 'US' });
    expect(onlyUsCa.normalize('+16135550123')).toMatchObject({ ok: true, country: 'CA' });
    expect(onlyUsCa.normalize('+447911123456')).toMatchObject({ ok: false, code: 'SMS_PHONE_COUNTRY_NOT_ALLOWED' });
    // Country unknown (fictional 555 area code) with an allow-list: refused rather than guessed.
    expect(onlyUsCa.normalize('+15551234567')).toMatchObject({ ok: false, code: 'SMS_PHONE_COUNTRY_NOT_ALLOWED' });
  });

  it('refuses an unsupported default country at construction', () => {
    expect(() => new PhoneNormalizer({ defaultCountry: 'XX' as CountryCode })).toThrow(RangeError);
  });

  it('normalizePhone and isE164 helpers', () => {
    expect(normalizePhone('+14155550123')).toMatchObject({ ok: true, e164: '+14155550123' });
    expect(isE164('+14155550123')).toBe(true);
    expect(isE164('14155550123')).toBe(false);
  });

  it('re-exports the logger’s phone redaction', () => {
    expect(redactPhone('+14155550123')).toBe('+1********23');
  });
});

describe('phone normalisation properties', () => {
  // Valid numbers: each country's example mobile number with its last digits varied.
  const validNumber = fc
    .tuple(
      fc.constantFrom(...getCountries().filter((c) => getExampleNumber(c, examples) !== undefined)),
      fc.integer({ min: 0, max: 99 }),
    )
    .map(([country, tail]) => {
      const example = getExampleNumber(country, examples)!.number;
      const candidate = example.slice(0, -2) + String(tail).padStart(2, '0');
      const parsed = parsePhoneNumberFromString(candidate);
      return parsed?.isValid() && parsed.country === country ? parsed : getExampleNumber(country, examples)!;
    });

  const separator = fc.constantFrom('', ' ', '-', '.', ' ', '  ');

  it('normalising is idempotent', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          validNumber.map((p) => p.formatInternational()),
          fc.string({ unit: fc.constantFrom(...'+0123456789 -().'), maxLength: 20 }),
        ),
        (input) => {
          const first = us.normalize(input);
          if (!first.ok) return;
          const second = us.normalize(first.e164);
          expect(second).toEqual(first);
          expect(isE164(first.e164)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('formatting variants of one number normalise to one E.164', () => {
    fc.assert(
      fc.property(validNumber, fc.array(separator, { minLength: 16, maxLength: 16 }), (parsed, seps) => {
        const e164 = parsed.number;
        const country = parsed.country!;
        const national = new PhoneNormalizer({ defaultCountry: country, blockPremiumRate: false });
        const spaced = '+' + [...e164.slice(1)].map((d, i) => d + (seps[i] ?? '')).join('');
        const variants = [
          e164,
          parsed.formatInternational(),
          parsed.getURI(),
          ` ${spaced} `,
          `+${parsed.countryCallingCode} (${parsed.nationalNumber.slice(0, 3)}) ${parsed.nationalNumber.slice(3)}`,
        ];
        for (const v of variants) expect(national.normalize(v)).toMatchObject({ ok: true, e164 });
        // National format only means something with the number's own country as the default.
        expect(national.normalize(parsed.formatNational())).toMatchObject({ ok: true, e164 });
      }),
      { numRuns: 300 },
    );
  });
});

describe('PhoneNormalizer remembers its results', () => {
  it('gives the same frozen result for the same input, and the same value once the input was forgotten', () => {
    const phones = new PhoneNormalizer({ defaultCountry: 'US' });
    const first = phones.normalize('(415) 555-2671');
    expect(first).toEqual({ ok: true, e164: '+14155552671', country: 'US', type: expect.anything() });
    expect(Object.isFrozen(first)).toBe(true);
    expect(phones.normalize('(415) 555-2671')).toBe(first);
    const refused = phones.normalize('911');
    expect(phones.normalize('911')).toBe(refused);
    // Far more other numbers than it remembers: the first is computed again, to the same value.
    for (let i = 0; i < 10_000; i++) phones.normalize(`+1415555${String(i).padStart(4, '0')}`);
    const again = phones.normalize('(415) 555-2671');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
