import { ConfigError, loadConfig } from '../../../src/config';
import { PhoneNormalizer, type CountryCode } from '../../../src/sms/phone';
import { SmsValidator } from '../../../src/sms/validate';

// The SMS_* variables as src/sms consumes them (src/config maps them into AppConfig.sms).
const base = { KAFKA_BROKERS: '127.0.0.1:9092', TWILIO_ENABLED: 'false' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  return [];
}

describe('SMS configuration', () => {
  it('has safe defaults', () => {
    expect(loadConfig(base).sms).toEqual({
      defaultCountry: 'US',
      phoneValidation: 'valid',
      blockedCountries: [],
      allowedCountries: [],
      blockPremiumRate: true,
      blockEmergency: true,
      allowedMediaTypes: undefined,
      smartEncoding: false,
    });
  });

  it('parses every variable', () => {
    const c = loadConfig({
      ...base,
      SMS_DEFAULT_COUNTRY: ' gb ',
      SMS_PHONE_VALIDATION: 'possible',
      SMS_BLOCKED_COUNTRIES: 'cu, ir,,',
      SMS_ALLOWED_COUNTRIES: 'GB,IE',
      SMS_BLOCK_PREMIUM_RATE: 'false',
      SMS_BLOCK_EMERGENCY: 'false',
      SMS_ALLOWED_MEDIA_TYPES: 'image/*, application/pdf',
      SMS_SMART_ENCODING: 'true',
    }).sms;
    expect(c).toEqual({
      defaultCountry: 'GB',
      phoneValidation: 'possible',
      blockedCountries: ['CU', 'IR'],
      allowedCountries: ['GB', 'IE'],
      blockPremiumRate: false,
      blockEmergency: false,
      allowedMediaTypes: ['image/*', 'application/pdf'],
      smartEncoding: true,
    });
    // What the server builds from it.
    const phones = new PhoneNormalizer({
      ...c,
      defaultCountry: c.defaultCountry as CountryCode,
      validation: c.phoneValidation,
    });
    expect(phones.normalize('07400 123456')).toMatchObject({ ok: true, e164: '+447400123456' });
    // Guernsey shares +44 but is not an allowed country.
    expect(phones.normalize('07911 123456')).toMatchObject({ ok: false, code: 'SMS_PHONE_COUNTRY_NOT_ALLOWED' });
    const sms = new SmsValidator({
      maxSegments: 10,
      allowedMediaTypes: c.allowedMediaTypes,
      smartEncoding: c.smartEncoding,
    });
    expect(sms.validate({ from: '+447911123456', media: ['https://e.x/a.mp4'] })).toMatchObject({
      ok: false,
      code: 'SMS_MEDIA_TYPE_NOT_ALLOWED',
    });
  });

  it('names each bad variable', () => {
    expect(
      problems({
        SMS_DEFAULT_COUNTRY: 'XX',
        SMS_PHONE_VALIDATION: 'strict',
        SMS_BLOCKED_COUNTRIES: 'USA',
        SMS_ALLOWED_COUNTRIES: 'U1',
        SMS_ALLOWED_MEDIA_TYPES: 'jpeg',
        SMS_BLOCK_EMERGENCY: 'maybe',
      }).sort(),
    ).toEqual(
      [
        'SMS_ALLOWED_COUNTRIES',
        'SMS_ALLOWED_MEDIA_TYPES',
        'SMS_BLOCKED_COUNTRIES',
        'SMS_BLOCK_EMERGENCY',
        'SMS_DEFAULT_COUNTRY',
        'SMS_PHONE_VALIDATION',
      ].sort(),
    );
  });
});
