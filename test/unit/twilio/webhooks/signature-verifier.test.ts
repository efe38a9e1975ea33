import { createHash } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { SignatureVerifier } from '../../../../src/twilio/webhooks/signature-verifier';
import { parseFormBody, parseJsonBody } from '../../../../src/twilio/webhooks/webhook-body';

const MAIN = 'AC' + 'a'.repeat(32);
const SUB = 'AC' + 'b'.repeat(32);
const TOKENS = { [MAIN]: 'main-token-0123456789', [SUB]: 'sub-token-9876543210' };
const BASE = 'https://hooks.example.com/ingress';
const PATH = '/webhooks/twilio/sms';

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

describe('SignatureVerifier', () => {
  const verifier = new SignatureVerifier({ authTokens: TOKENS, baseUrl: BASE });
  const params = { AccountSid: MAIN, MessageSid: 'SM' + '1'.repeat(32), Body: 'Hi there + ü', From: '+14155550123' };

  it('accepts a form body signed over the public URL, whatever host the request reached', () => {
    const sig = getExpectedTwilioSignature(TOKENS[MAIN]!, BASE + PATH, params);
    expect(verifier.verify(sig, PATH, parseFormBody(form(params)))).toEqual({ ok: true });
  });

  it('accepts a signature made with the explicit default port (SDK normalisation)', () => {
    const sig = getExpectedTwilioSignature(TOKENS[MAIN]!, 'https://hooks.example.com:443/ingress' + PATH, params);
    expect(verifier.verify(sig, PATH, parseFormBody(form(params)))).toEqual({ ok: true });
  });

  it('includes the query string in the signed URL', () => {
    const sig = getExpectedTwilioSignature(TOKENS[MAIN]!, BASE + PATH + '?tenant=a', params);
    expect(verifier.verify(sig, PATH + '?tenant=a', parseFormBody(form(params))).ok).toBe(true);
    expect(verifier.verify(sig, PATH + '?tenant=b', parseFormBody(form(params))).ok).toBe(false);
  });

  it('refuses a signature computed over the internal (proxied) URL', () => {
    const sig = getExpectedTwilioSignature(TOKENS[MAIN]!, 'http://10.0.0.5:4000' + PATH, params);
    expect(verifier.verify(sig, PATH, parseFormBody(form(params)))).toEqual({
      ok: false,
      reason: 'invalid',
      status: 403,
    });
  });

  it('validates a subaccount with its own token, not the main one', () => {
    const subParams = { ...params, AccountSid: SUB };
    const good = getExpectedTwilioSignature(TOKENS[SUB]!, BASE + PATH, subParams);
    const mainSigned = getExpectedTwilioSignature(TOKENS[MAIN]!, BASE + PATH, subParams);
    expect(verifier.verify(good, PATH, parseFormBody(form(subParams))).ok).toBe(true);
    expect(verifier.verify(mainSigned, PATH, parseFormBody(form(subParams))).ok).toBe(false);
  });

  it('refuses a tampered parameter', () => {
    const sig = getExpectedTwilioSignature(TOKENS[MAIN]!, BASE + PATH, params);
    const tampered = form({ ...params, Body: 'Hi there + u' });
    expect(verifier.verify(sig, PATH, parseFormBody(tampered))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('answers 400 for a missing signature and for a missing account, 403 for an unknown account', () => {
    const body = parseFormBody(form(params));
    expect(verifier.verify(undefined, PATH, body)).toEqual({ ok: false, reason: 'missing', status: 400 });
    const noAccount = parseFormBody(form({ Body: 'x' }));
    expect(verifier.verify('sig', PATH, noAccount)).toEqual({ ok: false, reason: 'missing_account', status: 400 });
    const stranger = parseFormBody(form({ ...params, AccountSid: 'AC' + 'c'.repeat(32) }));
    expect(verifier.verify('sig', PATH, stranger)).toEqual({ ok: false, reason: 'unknown_account', status: 403 });
  });

  describe('JSON bodies (bodySHA256)', () => {
    const raw = JSON.stringify(params);
    const hash = createHash('sha256').update(raw).digest('hex');
    const url = `${PATH}?bodySHA256=${hash}`;
    const sig = getExpectedTwilioSignature(TOKENS[MAIN]!, BASE + url, {});

    it('accepts the exact body whose hash the signed URL carries', () => {
      expect(verifier.verify(sig, url, parseJsonBody(raw)).ok).toBe(true);
    });

    it('refuses a body that differs from the hash, even if it parses to the same parameters', () => {
      const reformatted = JSON.stringify(params, null, 2);
      expect(verifier.verify(sig, url, parseJsonBody(reformatted)).ok).toBe(false);
    });

    it('refuses a JSON body whose URL carries no bodySHA256', () => {
      const bare = getExpectedTwilioSignature(TOKENS[MAIN]!, BASE + PATH, {});
      expect(verifier.verify(bare, PATH, parseJsonBody(raw)).ok).toBe(false);
    });
  });
});
