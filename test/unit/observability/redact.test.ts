import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { redactPhone, redactPhonesInText } from '../../../src/observability/redact';

/** What redactPhone gave when it parsed every number with libphonenumber-js (its behaviour before the fast path). */
function parsedRedaction(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 4) return '***';
  const cc = (value.startsWith('+') ? parsePhoneNumberFromString(value)?.countryCallingCode : undefined) ?? '';
  const tail = digits.slice(-2);
  return `${cc ? `+${cc}` : ''}${'*'.repeat(Math.max(digits.length - cc.length - 2, 1))}${tail}`;
}

describe('redactPhone', () => {
  it('keeps the country calling code and the last two digits', () => {
    expect(redactPhone('+14155550123')).toBe('+1********23');
    expect(redactPhone('+33612345678')).toBe('+33*******78');
    expect(redactPhone('+35312345678')).toBe('+353******78');
  });

  it('knows non-geographic calling codes, and shows none for a national part too short to parse', () => {
    expect(redactPhone('+80012345678')).toBe('+800******78');
    expect(redactPhone('+4200')).toBe('**00');
    expect(redactPhone('+99912345678')).toBe('*********78');
    expect(redactPhone('4155550123')).toBe('********23');
  });

  it('gives what a full libphonenumber-js parse gives on 20,000 random E.164 numbers', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const differ: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let digits = String(1 + Math.floor(next() * 9));
      const length = 4 + Math.floor(next() * 12);
      while (digits.length < length) digits += String(Math.floor(next() * 10));
      const value = `+${digits}`;
      if (redactPhone(value) !== parsedRedaction(value)) differ.push(value);
    }
    expect(differ).toEqual([]);
  });

  it('redacts every E.164 number in a text', () => {
    expect(redactPhonesInText('from +14155550123 to +447700900123.')).toBe('from +1********23 to +44********23.');
  });
});
