import { readInboundParams, readStatusParams } from '../../../../src/twilio/webhooks/webhook-params';

const ACCOUNT = 'AC' + 'a'.repeat(32);
const SID = 'SM' + '1'.repeat(32);
const inbound = { AccountSid: ACCOUNT, MessageSid: SID, From: '+14155550123', To: '+14155550100', Body: 'Hi' };

describe('readInboundParams', () => {
  it('accepts a complete inbound SMS', () => {
    const r = readInboundParams(inbound);
    expect(r).toMatchObject({
      ok: true,
      value: { accountSid: ACCOUNT, messageSid: SID, from: '+14155550123', to: '+14155550100', body: 'Hi' },
    });
  });

  it('falls back to SmsMessageSid and defaults a missing Body to empty', () => {
    const { MessageSid: _m, Body: _b, ...rest } = inbound;
    const r = readInboundParams({ ...rest, SmsMessageSid: SID });
    expect(r).toMatchObject({ ok: true, value: { messageSid: SID, body: '' } });
  });

  it.each([
    ['AccountSid', 'missing parameter AccountSid'],
    ['MessageSid', 'missing parameter MessageSid'],
    ['From', 'missing parameter From'],
    ['To', 'missing parameter To'],
  ])('names a missing %s', (name, reason) => {
    const params: Record<string, string> = { ...inbound };
    delete params[name];
    expect(readInboundParams(params)).toEqual({ ok: false, reason });
  });

  it.each([
    [{ AccountSid: 'AC123' }, 'parameter AccountSid must be an AC SID'],
    [{ MessageSid: 'XX' + '1'.repeat(32) }, 'parameter MessageSid must be an SM or MM SID'],
    [{ MessagingServiceSid: 'MG12' }, 'parameter MessagingServiceSid must be an MG SID'],
    [{ NumSegments: 'two' }, 'parameter NumSegments must be a whole number'],
    [{ NumMedia: '11' }, 'parameter NumMedia must be a whole number from 0 to 10'],
    [{ NumMedia: '2', MediaUrl0: 'https://x/0' }, 'missing parameter MediaUrl1'],
    [{ NumMedia: '1', MediaUrl0: 'javascript:alert(1)' }, 'parameter MediaUrl0 must be an http(s) URL'],
  ])('refuses %j', (override, reason) => {
    expect(readInboundParams({ ...inbound, ...override })).toEqual({ ok: false, reason });
  });

  it('refuses a repeated parameter', () => {
    expect(readInboundParams({ ...inbound, From: ['+1', '+2'] })).toEqual({
      ok: false,
      reason: 'parameter From is repeated',
    });
  });

  it('never puts a value in the reason', () => {
    const r = readInboundParams({ ...inbound, NumMedia: '1', MediaUrl0: 'not-a-url-secret' });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('secret');
  });
});

describe('readStatusParams', () => {
  const status = { AccountSid: ACCOUNT, MessageSid: SID, MessageStatus: 'delivered' };

  it('accepts a status callback and keeps the error code', () => {
    expect(readStatusParams({ ...status, MessageStatus: 'failed', ErrorCode: '30003' })).toMatchObject({
      ok: true,
      value: { status: 'failed', errorCode: '30003', messageSid: SID },
    });
  });

  it('falls back to SmsSid/SmsStatus and exposes the status as MessageStatus to the builder', () => {
    const r = readStatusParams({ AccountSid: ACCOUNT, SmsSid: SID, SmsStatus: 'sent' });
    expect(r).toMatchObject({ ok: true, value: { status: 'sent', params: { MessageStatus: 'sent' } } });
  });

  it.each([
    [{ MessageStatus: undefined }, 'missing parameter MessageStatus'],
    [{ MessageStatus: 'exploded' }, 'parameter MessageStatus is not a known message status'],
    [{ ErrorCode: 'abc' }, 'parameter ErrorCode must be a number'],
    [{ MessageSid: undefined }, 'missing parameter MessageSid'],
  ])('refuses %j', (override, reason) => {
    expect(readStatusParams({ ...status, ...override })).toEqual({ ok: false, reason });
  });
});
