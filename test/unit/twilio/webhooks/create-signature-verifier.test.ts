import { silentLogger } from '../../../../src/observability';
import { createSignatureVerifier } from '../../../../src/twilio/webhooks/create-signature-verifier';
import { SignatureVerifier } from '../../../../src/twilio/webhooks/signature-verifier';
import { testConfig } from '../../../helpers/config';

const ACCOUNT = 'AC' + '1'.repeat(32);
const twilio = { TWILIO_ENABLED: 'true', TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: 'token-0123456789' };

describe('createSignatureVerifier', () => {
  it("checks signatures against the configured base URL with each account's token", () => {
    const signing = testConfig({ ...twilio, TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com/' }).twilio.signing;
    expect(signing).toEqual({
      verify: true,
      baseUrl: 'https://hooks.example.com',
      authTokens: { [ACCOUNT]: 'token-0123456789' },
    });
    expect(createSignatureVerifier(signing, silentLogger)).toBeInstanceOf(SignatureVerifier);
  });

  it('is off only by choice, and says so', () => {
    const signing = testConfig({ ...twilio, TWILIO_WEBHOOK_VALIDATION: 'false' }).twilio.signing;
    expect(signing).toEqual({ verify: false, why: 'disabled' });
    const warn = jest.fn();
    expect(
      createSignatureVerifier(signing, { ...silentLogger, warn } as unknown as typeof silentLogger),
    ).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('TWILIO_WEBHOOK_VALIDATION=false'));
  });

  it('fails closed for a configuration that serves no webhook (no base URL was demanded)', () => {
    const signing = testConfig({}).twilio.signing;
    expect(signing).toEqual({ verify: false, why: 'no-webhooks' });
    expect(() => createSignatureVerifier(signing, silentLogger)).toThrow(
      expect.objectContaining({ code: 'IE_CONFIG_INVALID' }),
    );
  });
});

describe('the Conversations section', () => {
  const conversations = {
    TWILIO_CONVERSATIONS_ENABLED: 'true',
    TWILIO_API_KEY_SID: 'SK' + '2'.repeat(32),
    TWILIO_API_KEY_SECRET: 'key-secret',
    TWILIO_CONVERSATIONS_SERVICE_SID: 'IS' + '3'.repeat(32),
  };

  it('is absent when Conversations is off, and whole when on', () => {
    expect(
      testConfig({ ...twilio, TWILIO_WEBHOOK_BASE_URL: 'https://h.example.com' }).twilio.conversations,
    ).toBeUndefined();
    const c = testConfig({ ...twilio, ...conversations, TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com' });
    expect(c.twilio.conversations).toMatchObject({
      accountSid: ACCOUNT,
      apiKeySid: 'SK' + '2'.repeat(32),
      serviceSid: 'IS' + '3'.repeat(32),
      identity: 'ingress-egress',
    });
  });

  it('Conversations alone (without TWILIO_ENABLED) still demands the account and the public base URL, once each', () => {
    expect(() => testConfig(conversations)).toThrow(/TWILIO_ACCOUNT_SID/);
    expect(() => testConfig(conversations)).toThrow(/TWILIO_WEBHOOK_BASE_URL/);
    try {
      testConfig(conversations);
    } catch (err) {
      expect(String((err as Error).message).match(/TWILIO_ACCOUNT_SID/g)).toHaveLength(1);
    }
  });
});
