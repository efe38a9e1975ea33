import { deterministicEventId, EGRESS_PRIORITIES, type InternalEventV2 } from '../../../../src/envelope';
import { DLQ_HEADERS } from '../../../../src/egress/dlq-record';
import { EGRESS_ERROR_CODES } from '../../../../src/egress/egress-errors';
import { IN_FLIGHT_GRACE_MS } from '../../../../src/twilio/egress/stages/ledger-stage';
import { FORGOTTEN_SKEW_MS, ledgerKey } from '../../../../src/twilio/egress/send-ledger';
import { createMetrics } from '../../../../src/observability';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { STAGE_NAMES } from '../../../../src/twilio/egress/stage';
import { SmsOutboundValidator } from '../../../../src/twilio/egress/sms-outbound-validator';
import { PhoneNormalizer } from '../../../../src/sms/phone';
import { SmsValidator } from '../../../../src/sms/validate';
import { ACCOUNT, ALICE, BOB, harness, outcomes, request, SENDER, SERVICE } from './fakes';
import { settle } from '../../../helpers/settle';

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
afterEach(() => jest.useRealTimers());

function only<T extends InternalEventV2['type']>(events: InternalEventV2[], type: T) {
  const found = events.filter((e) => e.type === type);
  expect(found).toHaveLength(1);
  return found[0] as Extract<InternalEventV2, { type: T }>;
}

describe('TwilioEgressHandler', () => {
  it('runs the stages in their fixed order', () => {
    const h = harness();
    expect(h.handler.pipeline.stageNames).toEqual([...STAGE_NAMES]);
  });

  it('sends a valid request once and publishes one accepted outcome linked to it', async () => {
    const h = harness();
    const req = request(h.builder, { to: ALICE, body: 'Your code is 1234' });
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates).toHaveLength(1);
    expect(h.twilio.creates[0]).toMatchObject({
      accountSid: ACCOUNT,
      to: ALICE,
      from: SENDER,
      body: 'Your code is 1234',
      statusCallback: 'https://hooks.example.com/status',
    });
    const out = outcomes(h.publisher);
    expect(out).toHaveLength(1);
    const accepted = only(out, 'sms.outbound.accepted');
    expect(accepted.id).toBe(deterministicEventId('sms.outbound.accepted', req.id, ''));
    expect(accepted.causationId).toBe(req.id);
    expect(accepted.data).toMatchObject({
      requestId: req.id,
      messageSid: h.twilio.messages[0]!.sid,
      to: ALICE,
      numSegments: 1,
      encoding: 'GSM-7',
      attempts: 1,
      deduplicated: false,
    });
    expect(h.ledger.writes.map((w) => w.state)).toEqual(['intent', 'sent']);
    expect(h.ledger.get(ledgerKey(req.id, ALICE))?.messageSid).toBe(h.twilio.messages[0]!.sid);
  });

  it('rejects an invalid recipient without calling Twilio', async () => {
    const h = harness();
    await settle(h.handler.handle(request(h.builder, { to: '+1555', body: 'hi' }), h.context()));
    expect(h.twilio.creates).toHaveLength(0);
    expect(only(outcomes(h.publisher), 'sms.outbound.rejected').data.code).toBe('SMS_PHONE_INVALID');
    expect(h.ledger.writes).toHaveLength(0);
  });

  it('refuses an opted-out recipient before Twilio', async () => {
    const h = harness();
    h.optedOut.add(ALICE);
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'promo' }), h.context()));
    expect(h.twilio.creates).toHaveLength(0);
    expect(only(outcomes(h.publisher), 'sms.outbound.rejected').data.code).toBe('OPTED_OUT');
  });

  it('renders a template, and rejects one with a missing variable', async () => {
    const h = harness();
    await settle(
      h.handler.handle(
        request(h.builder, { to: ALICE, template: { name: 'welcome', variables: { name: 'Ada' } } }),
        h.context(),
      ),
    );
    expect(h.twilio.creates[0]!.body).toBe('Hello Ada, welcome!');
    await settle(
      h.handler.handle(request(h.builder, { to: BOB, template: { name: 'welcome', variables: {} } }), h.context()),
    );
    expect(h.twilio.creates).toHaveLength(1);
    expect(only(outcomes(h.publisher), 'sms.outbound.rejected').data.code).toBe('SMS_TEMPLATE_VARIABLE_MISSING');
  });

  it('sends MMS media, a scheduled send through a messaging service, and the request’s own callback URL', async () => {
    const h = harness();
    await settle(
      h.handler.handle(
        request(h.builder, {
          to: ALICE,
          body: 'look',
          mediaUrls: ['https://cdn.example.com/a.png', 'https://cdn.example.com/b.jpg'],
          statusCallbackUrl: 'https://mine.example.com/cb',
        }),
        h.context(),
      ),
    );
    expect(h.twilio.creates[0]).toMatchObject({
      mediaUrls: ['https://cdn.example.com/a.png', 'https://cdn.example.com/b.jpg'],
      statusCallback: 'https://mine.example.com/cb',
    });
    const sendAt = '2024-05-02T09:00:00.000Z';
    await settle(
      h.handler.handle(
        request(h.builder, { to: BOB, body: 'later', sendAt }, { messagingServiceSid: SERVICE }),
        h.context(),
      ),
    );
    expect(h.twilio.creates[1]).toMatchObject({ messagingServiceSid: SERVICE, from: undefined });
    expect(h.twilio.creates[1]!.sendAt?.toISOString()).toBe(sendAt);
    expect(outcomes(h.publisher).map((e) => e.type)).toEqual(['sms.outbound.accepted', 'sms.outbound.accepted']);
  });

  it('rejects a scheduled send without a messaging service', async () => {
    const h = harness();
    await settle(
      h.handler.handle(request(h.builder, { to: ALICE, body: 'x', sendAt: '2024-06-01T00:00:00Z' }), h.context()),
    );
    expect(only(outcomes(h.publisher), 'sms.outbound.rejected').data.code).toBe('SCHEDULE_NEEDS_MESSAGING_SERVICE');
  });

  it('retries a 429 after its Retry-After and sends once', async () => {
    const h = harness();
    h.twilio.script = [{ status: 429, code: 20429, retryAfterSeconds: 1 }];
    const started = Date.now();
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    expect(h.twilio.creates).toHaveLength(2);
    expect(h.twilio.messages).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.attempts).toBe(2);
  });

  it('fails to the DLQ with the cause after the last retriable attempt while the circuit is closed', async () => {
    const h = harness({ maxAttempts: 3 });
    h.twilio.script = [{ status: 503 }, { status: 500 }, { status: 502, message: 'bad gateway for +14155550123' }];
    const req = request(h.builder, { to: ALICE, body: 'x' });
    await settle(h.handler.handle(req, h.context(7)));
    const failed = only(outcomes(h.publisher), 'sms.outbound.failed');
    expect(failed.data).toMatchObject({ code: 'TWILIO_FAILED', attempts: 3, retriable: true });
    expect(failed.data.reason).not.toContain('+14155550123');
    expect(h.publisher.raw).toHaveLength(1);
    const dlq = h.publisher.raw[0]!;
    expect(dlq.topic).toBe('sms.egress.dlq');
    expect(JSON.parse(dlq.value!.toString()).id).toBe(req.id);
    expect(dlq.headers).toMatchObject({
      [DLQ_HEADERS.code]: 'TWILIO_FAILED',
      [DLQ_HEADERS.stage]: 'send',
      [DLQ_HEADERS.sourceOffset]: '7',
      [DLQ_HEADERS.attempts]: '3',
      [DLQ_HEADERS.requestId]: req.id,
    });
  });

  it('does not burn a request into the DLQ while Twilio is down: it throws a retriable error instead', async () => {
    const h = harness({ maxAttempts: 2, threshold: 2 });
    h.twilio.script = [{ status: 503 }, { status: 503 }];
    const run = settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    await expect(run).rejects.toMatchObject({ code: 'IE_EGRESS_TWILIO_UNAVAILABLE', retriable: true });
    expect(outcomes(h.publisher)).toHaveLength(0);
    expect(h.publisher.raw).toHaveLength(0);
    expect(h.deps.circuits.for(ACCOUNT).state).toBe('open');
    expect(EGRESS_ERROR_CODES.IE_EGRESS_TWILIO_UNAVAILABLE.retriable).toBe(true);
  });

  it('reconciles after a timeout that created the message: accepted once, never sent twice', async () => {
    const h = harness();
    h.twilio.script = [{ network: 'ECONNABORTED', created: true }];
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'once only' }), h.context()));
    expect(h.twilio.creates).toHaveLength(1);
    expect(h.twilio.lists.length).toBeGreaterThan(0);
    const a = only(outcomes(h.publisher), 'sms.outbound.accepted');
    expect(a.data.messageSid).toBe(h.twilio.messages[0]!.sid);
    expect(a.data.deduplicated).toBe(true);
  });

  it('resends after a reset that did not create the message', async () => {
    const h = harness();
    h.twilio.script = [{ network: 'ECONNRESET', created: false }];
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    expect(h.twilio.creates).toHaveLength(2);
    expect(h.twilio.messages).toHaveLength(1);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.deduplicated).toBe(false);
  });

  it('does not claim a message another request already owns when reconciling', async () => {
    const h = harness();
    const first = request(h.builder, { to: ALICE, body: 'same words' });
    await settle(h.handler.handle(first, h.context()));
    h.twilio.script = [{ network: 'ECONNRESET', created: false }];
    const second = request(h.builder, { to: ALICE, body: 'same words' });
    await settle(h.handler.handle(second, h.context(1)));
    expect(h.twilio.messages).toHaveLength(2);
    const sids = outcomes(h.publisher).map((e) => (e.type === 'sms.outbound.accepted' ? e.data.messageSid : ''));
    expect(new Set(sids).size).toBe(2);
  });

  it('answers a redelivered request from the ledger without calling Twilio', async () => {
    const h = harness();
    const req = request(h.builder, { to: ALICE, body: 'x' });
    await settle(h.handler.handle(req, h.context()));
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates).toHaveLength(1);
    const out = outcomes(h.publisher);
    expect(out).toHaveLength(2);
    // The same outcome id: consumers deduplicate on it.
    expect(out[0]!.id).toBe(out[1]!.id);
    expect(out[1]!.type === 'sms.outbound.accepted' && out[1]!.data.deduplicated).toBe(true);
  });

  it('finds an unfinished intent of a crashed owner, waits out its attempt, and reconciles', async () => {
    const h = harness();
    const req = request(h.builder, { to: ALICE, body: 'crash' });
    // The crashed process created the message and wrote its intent, but not `sent`.
    await h.ledger.recordIntent({
      key: ledgerKey(req.id, ALICE),
      requestId: req.id,
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: Date.now(),
      owner: 'crashed-instance',
    });
    await h.twilio.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'crash' });
    const started = Date.now();
    await settle(h.handler.handle(req, h.context()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000 + IN_FLIGHT_GRACE_MS);
    expect(h.twilio.creates).toHaveLength(1);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.deduplicated).toBe(true);
    expect(h.ledger.get(ledgerKey(req.id, ALICE))?.state).toBe('sent');
  });

  it('sends when the unfinished intent never reached Twilio', async () => {
    const h = harness();
    const req = request(h.builder, { to: ALICE, body: 'crash' });
    await h.ledger.recordIntent({
      key: ledgerKey(req.id, ALICE),
      requestId: req.id,
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: Date.now(),
      owner: 'crashed-instance',
    });
    h.optedOut.add(BOB);
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates).toHaveLength(1);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.deduplicated).toBe(false);
  });

  it('turns 21610 into an opted-out rejection and a consent change', async () => {
    const h = harness();
    h.twilio.script = [{ status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' }];
    const req = request(h.builder, { to: ALICE, body: 'x' });
    await settle(h.handler.handle(req, h.context()));
    const rejected = only(outcomes(h.publisher), 'sms.outbound.rejected');
    expect(rejected.data).toMatchObject({ code: 'OPTED_OUT', twilioErrorCode: 21610 });
    const consent = only(h.publisher.events, 'sms.consent.changed');
    expect(consent.data).toMatchObject({
      action: 'opt_out',
      phoneNumber: ALICE,
      via: 'error_21610',
      scope: { kind: 'sender', sender: SENDER },
    });
    expect(consent.causationId).toBe(req.id);
  });

  it('rejects on a permanent Twilio error and fails on a credentials error', async () => {
    const h = harness();
    h.twilio.script = [
      { status: 400, code: 21211, message: "The 'To' number +14155550123 is not valid" },
      { status: 401, code: 20003 },
    ];
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'x' }), h.context()));
    const [rejected, failed] = outcomes(h.publisher);
    expect(rejected).toMatchObject({
      type: 'sms.outbound.rejected',
      data: { code: 'TWILIO_REJECTED', twilioErrorCode: 21211 },
    });
    expect(JSON.stringify(rejected)).not.toContain('+14155550123 is');
    expect(failed).toMatchObject({
      type: 'sms.outbound.failed',
      data: { code: 'TWILIO_AUTH', twilioErrorCode: 20003 },
    });
    expect(h.publisher.raw).toHaveLength(1);
  });

  it('rejects (no DLQ) a request whose From Twilio says is not ours (21606), as the error table says; only 20003/401/403/404 fail as TWILIO_AUTH', async () => {
    const h = harness();
    h.twilio.script = [
      { status: 400, code: 21606, message: 'The From phone number +14155550100 is not a valid, SMS-capable number' },
      { status: 403, code: 20003 },
      { status: 404, code: 20404 },
    ];
    for (const to of [ALICE, BOB, '+14155550125'])
      await settle(h.handler.handle(request(h.builder, { to, body: 'x' }), h.context()));
    const [notOurs, forbidden, notFound] = outcomes(h.publisher);
    expect(notOurs).toMatchObject({
      type: 'sms.outbound.rejected',
      data: { code: 'TWILIO_REJECTED', twilioErrorCode: 21606 },
    });
    expect(forbidden).toMatchObject({
      type: 'sms.outbound.failed',
      data: { code: 'TWILIO_AUTH', twilioErrorCode: 20003 },
    });
    expect(notFound).toMatchObject({
      type: 'sms.outbound.failed',
      data: { code: 'TWILIO_AUTH', twilioErrorCode: 20404 },
    });
    // Two DLQ records: the failed ones, not the rejection.
    expect(h.publisher.raw).toHaveLength(2);
  });

  it('sends a bulk request per recipient, with one outcome each and a summary', async () => {
    const h = harness();
    const req = request(h.builder, { recipients: [ALICE, 'not a number', BOB, ALICE], body: 'news' });
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates.map((c) => c.to).sort()).toEqual([ALICE, BOB]);
    const out = outcomes(h.publisher);
    expect(out.map((e) => e.type).sort()).toEqual([
      'sms.outbound.accepted',
      'sms.outbound.accepted',
      'sms.outbound.rejected',
      'sms.outbound.summary',
    ]);
    expect(new Set(out.map((e) => e.id)).size).toBe(4);
    expect(only(out, 'sms.outbound.summary').data).toEqual({
      requestId: req.id,
      total: 3,
      accepted: 2,
      rejected: 1,
      failed: 0,
    });
  });

  it('cancels the scheduled messages of a request, and rejects a cancel it knows nothing of', async () => {
    const h = harness();
    const req = request(
      h.builder,
      { to: ALICE, body: 'later', sendAt: '2024-05-03T00:00:00Z' },
      { messagingServiceSid: SERVICE },
    );
    await settle(h.handler.handle(req, h.context()));
    const cancel = h.builder.build('sms.outbound.cancel_requested', {
      accountSid: ACCOUNT,
      subject: ALICE,
      data: { requestId: req.id },
    });
    await settle(h.handler.handle(cancel, h.context()));
    expect(h.twilio.cancels).toEqual([h.twilio.messages[0]!.sid]);
    expect(only(outcomes(h.publisher), 'sms.outbound.canceled').data).toMatchObject({
      requestId: req.id,
      messageSid: h.twilio.messages[0]!.sid,
      status: 'canceled',
    });
    const unknown = h.builder.build('sms.outbound.cancel_requested', {
      accountSid: ACCOUNT,
      subject: ALICE,
      data: { requestId: 'nope' },
    });
    await settle(h.handler.handle(unknown, h.context()));
    expect(only(outcomes(h.publisher), 'sms.outbound.rejected').data.code).toBe('UNKNOWN_REQUEST');
  });

  it('answers a redelivered cancel with the same canceled outcome although Twilio refuses to cancel twice', async () => {
    const h = harness();
    const req = request(
      h.builder,
      { to: ALICE, body: 'later', sendAt: '2024-05-03T00:00:00Z' },
      { messagingServiceSid: SERVICE },
    );
    await settle(h.handler.handle(req, h.context()));
    const cancel = h.builder.build('sms.outbound.cancel_requested', {
      accountSid: ACCOUNT,
      subject: ALICE,
      data: { requestId: req.id },
    });
    await settle(h.handler.handle(cancel, h.context()));
    h.twilio.cancelScript = [{ status: 400, code: 30409, message: 'Message cannot be canceled' }];
    await settle(h.handler.handle(cancel, h.context()));
    const canceled = outcomes(h.publisher).filter((e) => e.type === 'sms.outbound.canceled');
    expect(canceled).toHaveLength(2);
    expect(canceled[0]!.id).toBe(canceled[1]!.id);
    expect(outcomes(h.publisher).filter((e) => e.type === 'sms.outbound.rejected')).toHaveLength(0);
  });

  it('replies into a Conversation when the request carries a conversationSid', async () => {
    const replies: unknown[] = [];
    const h = harness({
      conversationReply: async (r) => {
        replies.push(r);
        return { ok: true, conversationSid: r.conversationSid, messageSid: 'IM' + '1'.repeat(32), index: 3 };
      },
    });
    const conversationSid = 'CH' + 'c'.repeat(32);
    await settle(h.handler.handle(request(h.builder, { conversationSid, body: 'hello there' }), h.context()));
    expect(h.twilio.creates).toHaveLength(0);
    expect(replies).toEqual([expect.objectContaining({ conversationSid, body: 'hello there' })]);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.messageSid).toBe('IM' + '1'.repeat(32));
  });

  it('throws a retriable error when Kafka is down, and the retry does not send again', async () => {
    const h = harness();
    const req = request(h.builder, { to: ALICE, body: 'x' });
    const publish = h.publisher.publish.bind(h.publisher);
    let down = true;
    h.publisher.publish = async (e) => {
      if (down && e.type === 'sms.outbound.accepted') throw Object.assign(new Error('kafka down'), { retriable: true });
      return publish(e);
    };
    await expect(settle(h.handler.handle(req, h.context()))).rejects.toMatchObject({ retriable: true });
    down = false;
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates).toHaveLength(1);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.deduplicated).toBe(true);
  });

  it('turns an unexpected error in a stage into a failed outcome in the DLQ', async () => {
    const h = harness({
      validator: {
        validate: () => {
          throw new TypeError('boom');
        },
        recipientKey: (_request, recipient) => recipient,
      },
    });
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    expect(only(outcomes(h.publisher), 'sms.outbound.failed').data.code).toBe('INTERNAL_ERROR');
    expect(h.publisher.raw[0]!.headers![DLQ_HEADERS.stage]).toBe('validate');
  });

  it('asks the consumer to pause while the circuit is open, and shares the account limit by partitions', async () => {
    const h = harness({ threshold: 1, maxAttempts: 1 });
    expect(h.handler.shouldPause()).toBe(false);
    h.twilio.script = [{ status: 503 }];
    await expect(settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()))).rejects.toThrow();
    expect(h.handler.shouldPause()).toBe(true);
    await h.handler.partitionsAssigned({ assigned: 1, total: 4 });
    expect(h.deps.limiter.currentShare).toBe(0.25);
  });

  it('pauses every lane for the circuit; the share follows the normal lane only', async () => {
    const h = harness({ threshold: 1, maxAttempts: 1 });
    for (const lane of EGRESS_PRIORITIES) expect(h.handler.shouldPause(lane)).toBe(false);
    await h.handler.partitionsAssigned({ assigned: 1, total: 2, lane: 'urgent' });
    await h.handler.partitionsAssigned({ assigned: 3, total: 4, lane: 'bulk' });
    expect(h.deps.limiter.currentShare).toBe(1);
    await h.handler.partitionsAssigned({ assigned: 1, total: 2, lane: 'normal' });
    expect(h.deps.limiter.currentShare).toBe(0.5);
    h.twilio.script = [{ status: 503 }];
    await expect(settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()))).rejects.toThrow();
    for (const lane of EGRESS_PRIORITIES) expect(h.handler.shouldPause(lane)).toBe(true);
  });

  it('recovers by itself after an outage with no traffic: fetching resumes at half-open and the next send probes', async () => {
    const h = harness({ threshold: 1, maxAttempts: 1 });
    h.twilio.script = [{ status: 503 }];
    await expect(settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()))).rejects.toThrow();
    for (const lane of EGRESS_PRIORITIES) expect(h.handler.shouldPause(lane)).toBe(true);
    // No request comes; the reset timeout alone half-opens the circuit, and no lane asks for a pause any more.
    await jest.advanceTimersByTimeAsync(30_000);
    expect(h.deps.circuits.worst()).toBe('half_open');
    for (const lane of EGRESS_PRIORITIES) expect(h.handler.shouldPause(lane)).toBe(false);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(h.deps.circuits.worst()).toBe('half_open');
    // The first request after the quiet hour is the probe; Twilio answers, and the circuit closes.
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'y' }), h.context(1)));
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.to).toBe(BOB);
    expect(h.deps.circuits.worst()).toBe('closed');
    h.deps.circuits.dispose();
  });
});

describe('one number in several spellings', () => {
  const ALICE_FORMATTED = '+1 415-555-0123';
  const ALICE_NATIONAL = '(415) 555-0123';

  /** A harness whose validator reads national numbers as US ones (SMS_DEFAULT_COUNTRY=US). */
  function usHarness() {
    const h = harness();
    const validator = new SmsOutboundValidator({
      phones: new PhoneNormalizer({ defaultCountry: 'US' }),
      sms: new SmsValidator({ maxSegments: 10 }),
      defaultFrom: SENDER,
    });
    return harness({ validator, twilio: h.twilio, ledger: h.ledger });
  }

  const legacy = (requestId: string, recipient: string, state: 'intent' | 'sent', messageSid?: string) => ({
    key: ledgerKey(requestId, recipient),
    requestId,
    recipient,
    accountSid: ACCOUNT,
    attemptAt: Date.now(),
    owner: 'an-older-build',
    ...(state === 'sent' ? { messageSid: messageSid!, status: 'queued', attempts: 1 } : {}),
  });

  it('texts a number a bulk request names in two spellings once, with one outcome and a summary of distinct numbers', async () => {
    const h = harness();
    const req = request(h.builder, { recipients: [ALICE, ALICE_FORMATTED, BOB], body: 'news' });
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates.map((c) => c.to).sort()).toEqual([ALICE, BOB]);
    const out = outcomes(h.publisher);
    const accepted = out.filter((e) => e.type === 'sms.outbound.accepted');
    expect(accepted.map((e) => e.id).sort()).toEqual(
      [ALICE, BOB].map((n) => deterministicEventId('sms.outbound.accepted', req.id, n)).sort(),
    );
    expect(only(out, 'sms.outbound.summary').data).toEqual({
      requestId: req.id,
      total: 2,
      accepted: 2,
      rejected: 0,
      failed: 0,
    });
    expect(new Set(h.ledger.writes.map((w) => w.key))).toEqual(
      new Set([ledgerKey(req.id, ALICE), ledgerKey(req.id, BOB)]),
    );
    expect(h.ledger.writes.every((w) => w.recipient === ALICE || w.recipient === BOB)).toBe(true);
  });

  it('reads national numbers with the default country: `to` and a recipient that are one number are texted once', async () => {
    const h = usHarness();
    const req = request(h.builder, { to: ALICE_NATIONAL, recipients: ['415.555.0123', ALICE, BOB], body: 'news' });
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates.map((c) => c.to).sort()).toEqual([ALICE, BOB]);
    expect(only(outcomes(h.publisher), 'sms.outbound.summary').data).toMatchObject({ total: 2, accepted: 2 });
    // Redelivered: answered from the ledger, nobody texted again.
    await settle(h.handler.handle(req, h.context()));
    expect(h.twilio.creates).toHaveLength(2);
  });

  it('keys a single recipient’s ledger entry by its E.164 number', async () => {
    const h = harness();
    const req = request(h.builder, { to: ALICE_FORMATTED, body: 'x' });
    await settle(h.handler.handle(req, h.context()));
    expect(h.ledger.writes.map((w) => [w.key, w.recipient])).toEqual([
      [ledgerKey(req.id, ALICE), ALICE],
      [ledgerKey(req.id, ALICE), ALICE],
    ]);
    expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data.to).toBe(ALICE);
  });

  it('keeps unparseable recipients as written: each is rejected as before', async () => {
    const h = harness();
    const req = request(h.builder, { recipients: ['not a number', 'not a number', 'nope', ALICE], body: 'x' });
    await settle(h.handler.handle(req, h.context()));
    const rejected = outcomes(h.publisher).filter((e) => e.type === 'sms.outbound.rejected');
    expect(rejected.map((e) => e.id).sort()).toEqual(
      ['not a number', 'nope'].map((r) => deterministicEventId('sms.outbound.rejected', req.id, r)).sort(),
    );
    expect(only(outcomes(h.publisher), 'sms.outbound.summary').data).toMatchObject({ total: 3, rejected: 2 });
  });

  describe('ledger entries written before recipients were normalised (keyed by the spelling)', () => {
    it('finds a single recipient’s `sent` entry under its spelling: deduplicated, no second SMS', async () => {
      const h = harness();
      const req = request(h.builder, { to: ALICE_FORMATTED, body: 'x' });
      const sent = await h.twilio.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'x' });
      await h.ledger.recordSent(legacy(req.id, ALICE_FORMATTED, 'sent', sent.sid) as never);
      await settle(h.handler.handle(req, h.context()));
      expect(h.twilio.creates).toHaveLength(1);
      expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data).toMatchObject({
        messageSid: sent.sid,
        deduplicated: true,
      });
    });

    it('finds every spelling’s entry of a bulk request: one `sent` answers the number', async () => {
      const h = usHarness();
      const req = request(h.builder, { recipients: [ALICE_NATIONAL, ALICE_FORMATTED, BOB], body: 'x' });
      const sent = await h.twilio.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'x' });
      await h.ledger.recordIntent(legacy(req.id, ALICE_NATIONAL, 'intent'));
      await h.ledger.recordSent(legacy(req.id, ALICE_FORMATTED, 'sent', sent.sid) as never);
      await settle(h.handler.handle(req, h.context()));
      expect(h.twilio.creates.map((c) => c.to)).toEqual([ALICE, BOB]);
      const alice = outcomes(h.publisher).find((e) => e.type === 'sms.outbound.accepted' && e.data.to === ALICE);
      expect(alice).toMatchObject({ data: { messageSid: sent.sid, deduplicated: true } });
    });

    it('waits out and reconciles a crashed owner’s intent under the spelling before anything is sent', async () => {
      const h = harness();
      const req = request(h.builder, { to: ALICE_FORMATTED, body: 'crash' });
      await h.ledger.recordIntent(legacy(req.id, ALICE_FORMATTED, 'intent'));
      const created = await h.twilio.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'crash' });
      const started = Date.now();
      await settle(h.handler.handle(req, h.context()));
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000 + IN_FLIGHT_GRACE_MS);
      expect(h.twilio.creates).toHaveLength(1);
      expect(only(outcomes(h.publisher), 'sms.outbound.accepted').data).toMatchObject({
        messageSid: created.sid,
        deduplicated: true,
      });
      expect(h.ledger.get(ledgerKey(req.id, ALICE))).toMatchObject({ state: 'sent', messageSid: created.sid });
    });
  });
});

describe('a send ledger that forgot its oldest entries (EGRESS_LEDGER_MAX_ENTRIES)', () => {
  /** A harness whose ledger keeps one entry: the second request's entry pushes the first one's out. */
  function forgetfulHarness() {
    const metrics = createMetrics({ defaultMetrics: false });
    const h = harness({ ledger: new MemorySendLedger(() => Date.now(), 1), metrics });
    const checks = async () =>
      (await metrics.registry.getSingleMetric('egress_ledger_forgotten_checks_total')!.get()).values
        .filter((v) => v.labels.channel === 'sms')
        .reduce((n, v) => n + v.value, 0);
    return { h, checks };
  }

  it('asks Twilio before resending a redelivered request whose entry it forgot: the SMS goes out once', async () => {
    const { h, checks } = forgetfulHarness();
    const first = request(h.builder, { to: ALICE, body: 'your order shipped' });
    await settle(h.handler.handle(first, h.context(0)));
    // A minute later: the ledger forgets from the oldest minute it holds.
    jest.setSystemTime(Date.now() + 60_000);
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'other' }), h.context(1)));
    expect(h.ledger.get(ledgerKey(first.id, ALICE))).toBeUndefined();
    jest.setSystemTime(Date.now() + 3_600_000);
    await settle(h.handler.handle(first, h.context(0)));
    expect(h.twilio.creates).toHaveLength(2);
    expect(h.twilio.lists.length).toBeGreaterThan(0);
    const accepted = outcomes(h.publisher).filter(
      (e) => e.type === 'sms.outbound.accepted' && e.data.requestId === first.id,
    );
    expect(accepted.map((e) => e.type === 'sms.outbound.accepted' && e.data.deduplicated)).toEqual([false, true]);
    expect(accepted[0]!.id).toBe(accepted[1]!.id);
    expect(h.ledger.get(ledgerKey(first.id, ALICE))?.state).toBe('sent');
    expect(await checks()).toBe(1);
  });

  it('sends an old request Twilio never saw, once, after asking', async () => {
    const { h, checks } = forgetfulHarness();
    const old = request(h.builder, { to: ALICE, body: 'never sent' });
    jest.setSystemTime(Date.now() + 1_000);
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'a' }), h.context(1)));
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'b' }), h.context(2)));
    await settle(h.handler.handle(old, h.context(0)));
    expect(h.twilio.lists.map((l) => l.to)).toEqual([ALICE, ALICE]);
    expect(h.twilio.creates.map((c) => c.body)).toEqual(['a', 'b', 'never sent']);
    expect(outcomes(h.publisher).filter((e) => e.type === 'sms.outbound.accepted')).toHaveLength(3);
    expect(await checks()).toBe(1);
  });

  it('sends a request younger than anything it forgot without asking Twilio', async () => {
    const { h, checks } = forgetfulHarness();
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'a' }), h.context(0)));
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'b' }), h.context(1)));
    jest.setSystemTime(Date.now() + FORGOTTEN_SKEW_MS + 1_000);
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'c' }), h.context(2)));
    expect(h.twilio.creates).toHaveLength(3);
    expect(h.twilio.lists).toHaveLength(0);
    expect(await checks()).toBe(0);
  });

  it('dates a request by the earlier of its ingestedAt and its Kafka record timestamp', async () => {
    const { h } = forgetfulHarness();
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'a' }), h.context(0)));
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'b' }), h.context(1)));
    jest.setSystemTime(Date.now() + FORGOTTEN_SKEW_MS + 1_000);
    // Written to Kafka before the forgotten entries, its envelope stamped later (a producer with a fast clock).
    const recordTime = Date.now() - FORGOTTEN_SKEW_MS - 2_000;
    await settle(
      h.handler.handle(request(h.builder, { to: ALICE, body: 'c' }), { ...h.context(2), timestamp: recordTime }),
    );
    expect(h.twilio.lists).toHaveLength(2);
    expect(h.twilio.creates).toHaveLength(3);
  });
});
