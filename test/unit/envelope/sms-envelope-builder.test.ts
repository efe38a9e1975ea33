import { ensureValidEnvelope, EnvelopeValidationError, parseEnvelope, SmsEnvelopeBuilder } from '../../../src/envelope';
import { keyFor, topicFor } from '../../../src/kafka/topics';
import { testConfig } from '../../helpers/config';
import { clockFrom } from '../../../src/common/clock';

const ACCOUNT = 'AC' + '1'.repeat(32);
const SM = 'SM' + 'a'.repeat(32);
const fixed = new Date('2026-11-21T10:00:00.000Z');
const builder = new SmsEnvelopeBuilder(clockFrom(() => fixed.getTime()));

const inbound = {
  MessageSid: SM,
  SmsSid: SM,
  AccountSid: ACCOUNT,
  From: '+14155550100',
  To: '+14155550199',
  Body: 'Hi',
  NumMedia: '2',
  NumSegments: '1',
  MediaUrl0: 'https://api.twilio.com/media/1',
  MediaContentType0: 'image/jpeg',
  MediaUrl1: 'https://api.twilio.com/media/2',
  MediaContentType1: 'image/png',
  FromCity: 'SAN FRANCISCO',
  SmsStatus: 'received',
};

describe('SmsEnvelopeBuilder', () => {
  it('builds an inbound MMS envelope with media and geo fields', () => {
    const e = builder.inboundFromWebhook(inbound);
    expect(e).toMatchObject({
      specVersion: '2',
      type: 'sms.inbound.received',
      source: 'twilio',
      subject: '+14155550100',
      tenant: { accountSid: ACCOUNT },
      occurredAt: fixed.toISOString(),
      data: {
        channel: 'mms',
        messageSid: SM,
        body: 'Hi',
        numSegments: 1,
        media: [
          { url: 'https://api.twilio.com/media/1', contentType: 'image/jpeg' },
          { url: 'https://api.twilio.com/media/2', contentType: 'image/png' },
        ],
        geo: { FromCity: 'SAN FRANCISCO' },
      },
    });
  });

  it('gives the same webhook the same id, and a different message another id', () => {
    const a = builder.inboundFromWebhook(inbound);
    const b = new SmsEnvelopeBuilder().inboundFromWebhook(inbound);
    const c = builder.inboundFromWebhook({ ...inbound, MessageSid: 'SM' + 'b'.repeat(32) });
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('builds status events with rank and a per-status id', () => {
    const sent = builder.statusFromCallback({ MessageSid: SM, MessageStatus: 'sent', AccountSid: ACCOUNT });
    const failed = builder.statusFromCallback(
      { MessageSid: SM, MessageStatus: 'failed', ErrorCode: '30003', AccountSid: ACCOUNT },
      false,
    );
    expect(sent.data).toMatchObject({ status: 'sent', rank: 3, terminal: false, advances: true });
    expect(failed.data).toMatchObject({ status: 'failed', rank: 4, terminal: true, advances: false, errorCode: 30003 });
    expect(sent.id).not.toBe(failed.id);
    expect(keyFor(sent)).toBe(SM);
  });

  it('rejects an invalid inbound webhook with the field named', () => {
    expect(() => builder.inboundFromWebhook({ ...inbound, AccountSid: 'bad' })).toThrow(EnvelopeValidationError);
    try {
      builder.inboundFromWebhook({ ...inbound, MessageSid: '' });
    } catch (e) {
      expect((e as EnvelopeValidationError).fields.map((f) => f.path)).toContain('data.messageSid');
    }
  });

  it('builds consent events keyed by scope and number', () => {
    const e = builder.consentChanged({
      accountSid: ACCOUNT,
      action: 'opt_out',
      phoneNumber: '+14155550100',
      scope: { kind: 'sender', sender: '+14155550199' },
      via: 'keyword',
      keyword: 'STOP',
      messageSid: SM,
    });
    expect(topicFor(e, testConfig().kafka.topics)).toBe('sms.consent');
    expect(keyFor(e)).toBe(`${ACCOUNT}|sender:+14155550199|+14155550100`);
  });

  it('builds a conversations message and outcomes linked to their request', () => {
    const conv = builder.inboundFromConversation({
      accountSid: ACCOUNT,
      conversationSid: 'CH' + 'c'.repeat(32),
      messageSid: 'IM' + 'd'.repeat(32),
      index: 3,
      author: '+14155550100',
      body: 'hello',
    });
    expect(conv.data).toMatchObject({ channel: 'conversations', conversationIndex: 3, from: '+14155550100' });
    const request = builder.build('sms.outbound.requested', {
      accountSid: ACCOUNT,
      subject: '+14155550100',
      data: { to: '+14155550100', body: 'yo' },
    });
    const accepted = builder.outcome(request, 'sms.outbound.accepted', {
      requestId: request.id,
      messageSid: SM,
      to: '+14155550100',
      status: 'queued',
      numSegments: 1,
      encoding: 'GSM-7',
      attempts: 1,
      deduplicated: false,
    });
    expect(accepted.causationId).toBe(request.id);
    expect(accepted.correlationId).toBe(request.id);
    expect(topicFor(accepted, testConfig().kafka.topics)).toBe('sms.outcomes');
  });
});

describe('parseEnvelope', () => {
  it('rejects an unknown type and a bad timestamp', () => {
    expect(() => parseEnvelope({ specVersion: '2', type: 'nope' })).toThrow(EnvelopeValidationError);
    const ok = builder.inboundFromWebhook(inbound);
    expect(() => parseEnvelope({ ...ok, occurredAt: 'yesterday' })).toThrow(/occurredAt/);
  });
});

describe('ensureValidEnvelope', () => {
  it('returns a built envelope as it is: validated once, deep-frozen so it cannot change afterwards', () => {
    const built = builder.inboundFromWebhook(inbound);
    expect(ensureValidEnvelope(built)).toBe(built);
    expect(Object.isFrozen(built)).toBe(true);
    expect(Object.isFrozen(built.data)).toBe(true);
    expect(() => {
      (built.data as { to: string }).to = 'not a number';
    }).toThrow(TypeError);
    expect(() => {
      (built.tenant as { accountSid: string }).accountSid = 'x';
    }).toThrow(TypeError);
  });

  it('validates anything else, copies included', () => {
    const built = builder.inboundFromWebhook(inbound);
    const copy = { ...built, data: { ...built.data } };
    const checked = ensureValidEnvelope(copy);
    expect(checked).not.toBe(copy);
    expect(checked).toEqual(built);
    expect(() => ensureValidEnvelope({ ...built, occurredAt: 'yesterday' })).toThrow(/occurredAt/);
    expect(() => ensureValidEnvelope(null)).toThrow(EnvelopeValidationError);
  });
});
