import type { OutboundMessage } from '../../../../src/twilio/egress/delivery';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { findSentMessage, RECONCILE_SKEW_MS } from '../../../../src/twilio/egress/reconcile';
import { ledgerKey } from '../../../../src/twilio/egress/send-ledger';
import { ACCOUNT, ALICE, FakeTwilio, harness, outcomes, request, SENDER, SERVICE, type Harness } from './fakes';
import { settle as settleTimers } from '../../../helpers/settle';

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  to: ALICE,
  from: SENDER,
  messagingServiceSid: undefined,
  body: 'Your “code” is 1',
  mediaUrls: [],
  statusCallback: undefined,
  sendAt: undefined,
  validityPeriodSecs: undefined,
  smartEncoded: undefined,
  encoding: 'UCS-2',
  segments: 1,
  conversationSid: undefined,
  ...over,
});

describe('findSentMessage (reconciliation)', () => {
  let now = 1_700_000_000_000;
  const twilio = () => new FakeTwilio(() => now);

  it('finds the message of this attempt: same recipient, sender and body, created since the attempt', async () => {
    const t = twilio();
    const ledger = new MemorySendLedger();
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'Your “code” is 1' });
    const found = await findSentMessage(t, ledger, {
      accountSid: ACCOUNT,
      ledgerKey: 'k',
      message: message(),
      attemptAt: now,
    });
    expect(found?.sid).toBe(t.messages[0]!.sid);
    // Both the recent page and the DateSent> query were asked.
    expect(t.lists.map((l) => l.dateSentAfter !== undefined)).toEqual([false, true]);
    expect(t.lists[1]!.dateSentAfter!.getTime()).toBe(now - RECONCILE_SKEW_MS);
  });

  it('ignores another sender, another body, an older message and one claimed by another request', async () => {
    const t = twilio();
    const ledger = new MemorySendLedger();
    now -= 10 * 60_000;
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'Your “code” is 1' });
    now += 10 * 60_000;
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: '+14155550999', body: 'Your “code” is 1' });
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'something else' });
    const claimed = await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'Your “code” is 1' });
    await ledger.recordSent({
      key: 'other',
      requestId: 'other',
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: now,
      owner: 'x',
      messageSid: claimed.sid,
    });
    const q = { accountSid: ACCOUNT, ledgerKey: 'k', message: message(), attemptAt: now };
    expect(await findSentMessage(t, ledger, q)).toBeUndefined();
    // The request that claimed it finds it.
    expect((await findSentMessage(t, ledger, { ...q, ledgerKey: 'other' }))?.sid).toBe(claimed.sid);
  });

  it('matches the smart-encoded body Twilio stored, and a messaging-service send by its service', async () => {
    const t = twilio();
    await t.create({ accountSid: ACCOUNT, to: ALICE, messagingServiceSid: SERVICE, body: 'Your "code" is 1' });
    const found = await findSentMessage(t, new MemorySendLedger(), {
      accountSid: ACCOUNT,
      ledgerKey: 'k',
      message: message({
        from: undefined,
        messagingServiceSid: SERVICE,
        bodyAsSent: 'Your "code" is 1',
        smartEncoded: true,
      }),
      attemptAt: now,
    });
    expect(found?.messagingServiceSid).toBe(SERVICE);
  });
});

describe('reconciliation and the account circuit: only a create closes it', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
  afterEach(() => jest.useRealTimers());

  /** Lets timers run (back-offs, the reset timeout) until the promise settles. */
  const settle = <T>(p: Promise<T>): Promise<T> => settleTimers(p, 4_000);

  /** Opens the account circuit (three failed creates), then lets the reset timeout pass: half-open. */
  async function halfOpen(h: Harness): Promise<string[]> {
    const breaker = h.deps.circuits.for(ACCOUNT);
    for (let i = 0; i < 3; i++) (await breaker.acquire()).failure();
    expect(breaker.state).toBe('open');
    await jest.advanceTimersByTimeAsync(30_000);
    expect(breaker.state).toBe('half_open');
    const seen: string[] = [];
    h.deps.circuits.subscribe((_account, state, previous) => seen.push(`${previous}→${state}`));
    return seen;
  }

  it('a list that succeeds while half-open does not close the circuit: the create is the probe', async () => {
    const h = harness({ threshold: 3, maxAttempts: 1 });
    const seen = await halfOpen(h);
    const req = request(h.builder, { to: ALICE, body: 'after the outage' });
    // An intent without `sent`: the ledger stage lists the recipient's messages (none) before sending.
    await h.ledger.recordIntent({
      key: ledgerKey(req.id, ALICE),
      requestId: req.id,
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: Date.now(),
      owner: 'this-instance',
    });
    h.twilio.script = [{ status: 503 }]; // reads work, creates still fail
    await expect(settle(h.handler.handle(req, h.context()))).rejects.toMatchObject({
      code: 'IE_EGRESS_TWILIO_UNAVAILABLE',
    });
    // Not failed into the DLQ as TWILIO_FAILED ("Twilio worked for other messages"): Twilio is still down.
    expect(outcomes(h.publisher)).toEqual([]);
    expect(h.publisher.raw).toHaveLength(0);
    expect(h.twilio.lists.length).toBeGreaterThan(0);
    expect(h.twilio.creates).toHaveLength(1);
    expect(seen).toEqual(['half_open→open']);
    h.deps.circuits.dispose();
  });

  it('a list that finds the message after an ambiguous probe neither closes the circuit nor keeps the probe slot', async () => {
    const h = harness({ threshold: 1, maxAttempts: 3 });
    // The create times out after Twilio created the message: an outage answer, which opens the circuit (threshold 1).
    h.twilio.script = [{ network: 'ECONNABORTED', created: true }];
    const seen: string[] = [];
    h.deps.circuits.subscribe((_account, state, previous) => seen.push(`${previous}→${state}`));
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'once' }), h.context()));
    // The retry waited for half-open, took the probe, listed and found the message: accepted, nothing created again.
    expect(h.twilio.creates).toHaveLength(1);
    const out = outcomes(h.publisher);
    expect(out.map((e) => e.type)).toEqual(['sms.outbound.accepted']);
    expect(seen).toEqual(['closed→open', 'open→half_open']);
    const breaker = h.deps.circuits.for(ACCOUNT);
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()?.probe).toBe(true); // the probe slot is free for the next create
    h.deps.circuits.dispose();
  });

  it('a list that fails with an outage answer counts against the circuit, and the create permit it held is let go', async () => {
    const h = harness({ threshold: 2, maxAttempts: 3 });
    const seen: string[] = [];
    h.deps.circuits.subscribe((_account, state, previous) => seen.push(`${previous}→${state}`));
    h.twilio.script = [{ network: 'ECONNRESET', created: false }]; // failure 1, ambiguous
    h.twilio.listFailures = [{ status: 503 }]; // the reconciliation before the resend: failure 2, open
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    // Half-open, the retry took the probe, reconciled (nothing), created: closed by the create.
    expect(seen).toEqual(['closed→open', 'open→half_open', 'half_open→closed']);
    expect(h.twilio.creates).toHaveLength(2);
    expect(outcomes(h.publisher).map((e) => e.type)).toEqual(['sms.outbound.accepted']);
    h.deps.circuits.dispose();
  });

  it('the last reconciliation after the attempts ran out finds the message; its success does not reset the count', async () => {
    const h = harness({ threshold: 5, maxAttempts: 1 });
    h.twilio.script = [{ network: 'ECONNABORTED', created: true }];
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'x' }), h.context()));
    expect(outcomes(h.publisher).map((e) => e.type)).toEqual(['sms.outbound.accepted']);
    expect(h.deps.circuits.for(ACCOUNT).consecutiveFailures).toBe(1);
    h.deps.circuits.dispose();
  });
});
