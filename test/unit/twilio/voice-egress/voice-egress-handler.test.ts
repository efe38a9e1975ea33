import { TwilioEgressHandler } from '../../../../src/twilio/egress/twilio-egress-handler';
import { harness } from '../egress/fakes';
import { IN_FLIGHT_GRACE_MS } from '../../../../src/twilio/egress/attempt-over';
import { FORGOTTEN_SKEW_MS, ledgerKey } from '../../../../src/twilio/egress/send-ledger';
import { CALL_STAGE_NAMES } from '../../../../src/twilio/voice-egress/call-pipeline';
import { ACCOUNT, ALICE, CALLER, callRequest, endRequest, TWIML, voiceHarness, voiceOutcomes } from './fakes';
import { settle as settleTimers } from '../../../helpers/settle';

async function metric(h: ReturnType<typeof voiceHarness>, name: string): Promise<string> {
  return (await h.metrics.registry.getSingleMetricAsString(name))
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

describe('VoiceEgressHandler: voice.call.requested', () => {
  it('runs the stages in their documented order', () => {
    expect(voiceHarness().handler.pipeline.stageNames).toEqual([...CALL_STAGE_NAMES]);
  });

  it('places the call once, records it in the ledger and publishes voice.call.accepted', async () => {
    const h = voiceHarness();
    const req = callRequest(h.builder, { record: true, machineDetection: 'Enable', timeoutSecs: 20 });
    const decision = await h.handler.handleCall(req, h.context());
    expect(decision.type).toBe('voice.call.accepted');
    expect(h.calls.creates).toHaveLength(1);
    expect(h.calls.creates[0]).toMatchObject({
      accountSid: ACCOUNT,
      to: ALICE,
      from: CALLER,
      twiml: TWIML,
      record: true,
      recordingStatusCallback: 'https://hooks.example.com/webhooks/twilio/voice/recording',
      machineDetection: 'Enable',
      statusCallback: 'https://hooks.example.com/webhooks/twilio/voice/status',
      statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
      timeoutSecs: 20,
    });
    const [outcome] = voiceOutcomes(h.publisher);
    expect(outcome).toMatchObject({
      type: 'voice.call.accepted',
      causationId: req.id,
      data: {
        requestId: req.id,
        callSid: h.calls.calls[0]!.sid,
        to: ALICE,
        status: 'queued',
        attempts: 1,
        deduplicated: false,
      },
    });
    expect(h.ledger.get(ledgerKey(req.id, ALICE))).toMatchObject({ state: 'sent', messageSid: h.calls.calls[0]!.sid });
    expect(await metric(h, 'voice_outbound_calls_total')).toContain('outcome="accepted",error_code="none"} 1');
  });

  it('a redelivered request rings nobody again: accepted, deduplicated, from the ledger', async () => {
    const h = voiceHarness();
    const req = callRequest(h.builder);
    await h.handler.handleCall(req, h.context());
    const again = await h.handler.handleCall(req, h.context());
    expect(h.calls.creates).toHaveLength(1);
    expect(again).toMatchObject({
      type: 'voice.call.accepted',
      data: { deduplicated: true, callSid: h.calls.calls[0]!.sid },
    });
    const ids = voiceOutcomes(h.publisher).map((e) => e.id);
    expect(new Set(ids).size).toBe(1);
  });

  it('uses the routing rule TwiML when the request names routing', async () => {
    const h = voiceHarness();
    await h.handler.handleCall(callRequest(h.builder, { twiml: undefined, routing: 'table-ready' }), h.context());
    expect(h.calls.creates[0]!.twiml).toBe(TWIML);
  });

  it.each([
    [{ to: '911' }, 'SMS_PHONE_EMERGENCY'],
    [{ to: 'not a number' }, 'SMS_PHONE_INVALID'],
    [{ from: 'ACME' }, 'VOICE_CALLER_ID_INVALID'],
    [{ twiml: undefined }, 'VOICE_INSTRUCTIONS_INVALID'],
    [{ routing: 'table-ready' }, 'VOICE_INSTRUCTIONS_INVALID'],
    [{ twiml: undefined, routing: 'nope' }, 'VOICE_ROUTING_UNKNOWN'],
    [{ twiml: '<Say>hi</Say>' }, 'VOICE_TWIML_INVALID'],
    [{ twiml: `<Response><Say>${'a'.repeat(4000)}</Say></Response>` }, 'VOICE_TWIML_INVALID'],
  ])('rejects an invalid request (case %#) without calling Twilio', async (data, code) => {
    const h = voiceHarness();
    const decision = await h.handler.handleCall(callRequest(h.builder, data), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.rejected', data: { code } });
    expect(h.calls.creates).toHaveLength(0);
    const to = 'to' in data ? data.to : ALICE;
    expect(h.ledger.get(ledgerKey(voiceOutcomes(h.publisher)[0]!.causationId!, to))).toBeUndefined();
  });

  it('never calls a number on the do-not-call list', async () => {
    const h = voiceHarness();
    h.doNotCall.add(ALICE);
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.rejected', data: { code: 'DO_NOT_CALL' } });
    expect(h.calls.creates).toHaveLength(0);
  });

  it('retries a 503 and places the call once', async () => {
    const h = voiceHarness();
    h.calls.script = [{ status: 503 }];
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { attempts: 2 } });
    expect(h.calls.calls).toHaveLength(1);
  });

  it('after a timeout that placed the call, finds it by To/From and does not place another', async () => {
    const h = voiceHarness();
    h.calls.script = [{ network: 'ETIMEDOUT', created: true }];
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { deduplicated: true } });
    expect(h.calls.creates).toHaveLength(1);
    expect(h.calls.calls).toHaveLength(1);
    expect(h.calls.lists.some((l) => l.to === ALICE && l.from === CALLER && l.startTimeAfter !== undefined)).toBe(true);
  });

  it('after a timeout that did not place the call, places it once', async () => {
    const h = voiceHarness();
    h.calls.script = [{ network: 'ETIMEDOUT', created: false }];
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { deduplicated: false, attempts: 2 } });
    expect(h.calls.calls).toHaveLength(1);
  });

  it('an intent left by a crashed instance: lists the callee calls, and a call placed then is the answer', async () => {
    const h = voiceHarness();
    const req = callRequest(h.builder);
    const placed = await h.calls.create({ accountSid: ACCOUNT, to: ALICE, from: CALLER, twiml: TWIML });
    await h.ledger.recordIntent({
      key: ledgerKey(req.id, ALICE),
      requestId: req.id,
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: Date.now() - 1000,
      owner: 'crashed-instance',
      attempts: 1,
    });
    const decision = await h.handler.handleCall(req, h.context());
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { callSid: placed.sid, deduplicated: true } });
    expect(h.calls.creates).toHaveLength(1);
  });

  it('a call another request already claimed is not this request: it places its own', async () => {
    const h = voiceHarness();
    const first = callRequest(h.builder);
    await h.handler.handleCall(first, h.context());
    const second = callRequest(h.builder);
    await h.ledger.recordIntent({
      key: ledgerKey(second.id, ALICE),
      requestId: second.id,
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: Date.now() - 1000,
      owner: 'this-instance',
      attempts: 1,
    });
    const decision = await h.handler.handleCall(second, h.context());
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { deduplicated: false } });
    expect(h.calls.calls).toHaveLength(2);
  });

  it('a permanent Twilio refusal is a rejection with its code', async () => {
    const h = voiceHarness();
    h.calls.script = [{ status: 400, code: 21215, message: 'Geo permission to +14155550123 is not enabled' }];
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({
      type: 'voice.call.rejected',
      data: { code: 'TWILIO_REJECTED', twilioErrorCode: 21215 },
    });
    expect(JSON.stringify(voiceOutcomes(h.publisher))).not.toContain('4155550123 is');
  });

  it('retries exhausted while Twilio works for others: failed, and a DLQ copy', async () => {
    const h = voiceHarness({ maxAttempts: 2 });
    h.calls.script = [{ status: 500 }, { status: 500 }];
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.failed', data: { code: 'TWILIO_FAILED', attempts: 2 } });
    expect(h.publisher.raw).toHaveLength(1);
    expect(await metric(h, 'voice_outbound_calls_total')).toContain('outcome="failed"');
  });

  it('credentials refused: failed TWILIO_AUTH (DLQ, replay after the fix)', async () => {
    const h = voiceHarness();
    h.calls.script = [{ status: 401, code: 20003 }];
    const decision = await h.handler.handleCall(callRequest(h.builder), h.context());
    expect(decision).toMatchObject({ type: 'voice.call.failed', data: { code: 'TWILIO_AUTH' } });
    expect(h.publisher.raw).toHaveLength(1);
  });

  it('while the circuit is open after repeated outages, the record is retried later (a throw), not failed', async () => {
    const h = voiceHarness({ maxAttempts: 2, threshold: 2 });
    h.calls.script = [{ status: 503 }, { status: 503 }];
    await expect(h.handler.handleCall(callRequest(h.builder), h.context())).rejects.toMatchObject({
      code: 'IE_EGRESS_TWILIO_UNAVAILABLE',
      retriable: true,
    });
    expect(voiceOutcomes(h.publisher)).toHaveLength(0);
  });

  it('holds calls to the calls-per-second bucket (TWILIO_VOICE_CPS), apart from any message limit', async () => {
    const h = voiceHarness({ cps: 1 });
    await h.handler.handleCall(callRequest(h.builder), h.context());
    const second = h.handler.handleCall(callRequest(h.builder, { to: '+14155550199' }), h.context());
    second.catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    expect(h.handler.waiting()).toBe(1);
    expect(h.calls.creates).toHaveLength(1);
    h.abort.abort();
    await expect(second).rejects.toThrow();
    expect(h.calls.creates).toHaveLength(1);
  });
});

describe('VoiceEgressHandler: voice.call.end_requested', () => {
  it('ends the call a request id placed (through the ledger)', async () => {
    const h = voiceHarness();
    const req = callRequest(h.builder);
    await h.handler.handleCall(req, h.context());
    await h.handler.handleEnd(endRequest(h.builder, { requestId: req.id }), h.context());
    expect(h.calls.ends).toEqual([h.calls.calls[0]!.sid]);
    expect(voiceOutcomes(h.publisher).at(-1)).toMatchObject({
      type: 'voice.call.accepted',
      data: { requestId: req.id, callSid: h.calls.calls[0]!.sid, status: 'canceled', deduplicated: false },
    });
  });

  it('ends a call by CallSid; ending it again answers as the first time (deduplicated)', async () => {
    const h = voiceHarness();
    const placed = await h.calls.create({ accountSid: ACCOUNT, to: ALICE, from: CALLER, twiml: TWIML });
    h.calls.calls[0]!.status = 'in-progress';
    const end = endRequest(h.builder, { callSid: placed.sid });
    await h.handler.handleEnd(end, h.context());
    await h.handler.handleEnd(end, h.context());
    const [first, second] = voiceOutcomes(h.publisher);
    expect(first).toMatchObject({ type: 'voice.call.accepted', data: { status: 'completed', deduplicated: false } });
    expect(second).toMatchObject({ type: 'voice.call.accepted', data: { status: 'completed', deduplicated: true } });
  });

  it('rejects an end request naming nothing known, and an unknown CallSid', async () => {
    const h = voiceHarness();
    await h.handler.handleEnd(endRequest(h.builder, { requestId: 'never-placed' }), h.context());
    await h.handler.handleEnd(endRequest(h.builder, { callSid: 'CA' + 'f'.repeat(32) }), h.context());
    const [a, b] = voiceOutcomes(h.publisher);
    expect(a).toMatchObject({ type: 'voice.call.rejected', data: { code: 'UNKNOWN_CALL' } });
    expect(b).toMatchObject({ type: 'voice.call.rejected', data: { code: 'TWILIO_AUTH', twilioErrorCode: 20404 } });
  });
});

describe('TwilioEgressHandler routes voice requests', () => {
  it('hands voice.call.requested to voice egress, and sends it to the DLQ when voice egress is absent', async () => {
    const sms = harness();
    const h = voiceHarness();
    const withVoice = new TwilioEgressHandler(sms.deps, { extensions: [h.handler] });
    await withVoice.handle(callRequest(h.builder), sms.context());
    expect(h.calls.creates).toHaveLength(1);
    expect(voiceOutcomes(h.publisher)[0]!.type).toBe('voice.call.accepted');
    const withoutVoice = new TwilioEgressHandler(sms.deps);
    await withoutVoice.handle(callRequest(h.builder), sms.context());
    expect(sms.publisher.raw).toHaveLength(1);
    expect(sms.twilio.creates).toHaveLength(0);
  });
});

describe('VoiceEgressHandler: reconciliation lists and the account circuit', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
  afterEach(() => jest.useRealTimers());

  /** Lets timers run (back-offs, the reset timeout) until the promise settles. */
  const settle = <T>(p: Promise<T>): Promise<T> => settleTimers(p, 4_000);

  function transitions(h: ReturnType<typeof voiceHarness>): string[] {
    const seen: string[] = [];
    h.deps.circuits.subscribe((_account, state, previous) => seen.push(`${previous}→${state}`));
    return seen;
  }

  it('a list of the callee calls that succeeds while half-open does not close the circuit: the placement is the probe', async () => {
    const h = voiceHarness({ threshold: 3, maxAttempts: 1 });
    const breaker = h.deps.circuits.for(ACCOUNT);
    for (let i = 0; i < 3; i++) (await breaker.acquire()).failure();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(breaker.state).toBe('half_open');
    const seen = transitions(h);
    const req = callRequest(h.builder);
    await h.ledger.recordIntent({
      key: ledgerKey(req.id, ALICE),
      requestId: req.id,
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: Date.now(),
      owner: 'this-instance',
      attempts: 1,
    });
    h.calls.script = [{ status: 503 }]; // lists answer, placements still fail
    await expect(settle(h.handler.handleCall(req, h.context()))).rejects.toMatchObject({
      code: 'IE_EGRESS_TWILIO_UNAVAILABLE',
    });
    expect(voiceOutcomes(h.publisher)).toHaveLength(0);
    expect(h.calls.lists.length).toBeGreaterThan(0);
    expect(seen).toEqual(['half_open→open']);
    h.deps.circuits.dispose();
  });

  it('a list that finds the call after an ambiguous probe neither closes the circuit nor keeps the probe slot', async () => {
    const h = voiceHarness({ threshold: 1, maxAttempts: 3 });
    const seen = transitions(h);
    h.calls.script = [{ network: 'ETIMEDOUT', created: true }];
    const decision = await settle(h.handler.handleCall(callRequest(h.builder), h.context()));
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { deduplicated: true } });
    expect(h.calls.creates).toHaveLength(1);
    expect(seen).toEqual(['closed→open', 'open→half_open']);
    expect(h.deps.circuits.for(ACCOUNT).tryAcquire()?.probe).toBe(true);
    h.deps.circuits.dispose();
  });

  it('a list that fails with an outage answer counts against the circuit, and the placement permit it held is let go', async () => {
    const h = voiceHarness({ threshold: 2, maxAttempts: 3 });
    const seen = transitions(h);
    h.calls.script = [{ network: 'ECONNRESET', created: false }];
    h.calls.listScript = [{ status: 503 }];
    const decision = await settle(h.handler.handleCall(callRequest(h.builder), h.context()));
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { deduplicated: false } });
    expect(seen).toEqual(['closed→open', 'open→half_open', 'half_open→closed']);
    expect(h.calls.creates).toHaveLength(2);
    h.deps.circuits.dispose();
  });

  it('the last reconciliation after the attempts ran out finds the call; its success does not reset the count', async () => {
    const h = voiceHarness({ threshold: 5, maxAttempts: 1 });
    h.calls.script = [{ network: 'ETIMEDOUT', created: true }];
    const decision = await settle(h.handler.handleCall(callRequest(h.builder), h.context()));
    expect(decision).toMatchObject({ type: 'voice.call.accepted', data: { deduplicated: true } });
    expect(h.deps.circuits.for(ACCOUNT).consecutiveFailures).toBe(1);
    h.deps.circuits.dispose();
  });
});

/**
 * After an ambiguous placement (a reset, a timeout) Twilio may still place the call. The retry in the same process
 * lists the callee's calls only once that attempt must be over. A call request redelivered to the same process after
 * its delivery was aborted (the partition was lost, a detached
 * batch was told to stop, the drain deadline passed) finds this process's own intent. The aborted attempt's
 * placement may still be executed by Twilio: the new delivery must not list the callee's calls before that attempt
 * must be over (its start + TWILIO_TIMEOUT_SECS + grace), as for another owner's intent. SMS egress:
 * test/unit/twilio/egress/duplicate-window.test.ts.
 */
describe('VoiceEgressHandler: a late placement of its own ambiguous attempt', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
  afterEach(() => jest.useRealTimers());

  const TIMEOUT = 200; // the harness's twilioTimeoutMs

  async function redeliveredAfterAbort(lagMs: number): Promise<number> {
    const h = voiceHarness();
    const req = callRequest(h.builder);
    h.calls.script = [{ network: 'ECONNRESET', created: false, createdAfterMs: lagMs }];
    const first = new AbortController();
    const aborted = h.handler.handleCall(req, { ...h.context(), signal: first.signal }).catch((e: unknown) => e);
    // The reset comes at once; the record is aborted before its retry.
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls.creates).toHaveLength(1);
    first.abort(new Error('partition lost'));
    expect(await aborted).toBeInstanceOf(Error);
    const again = h.handler.handleCall(req, h.context());
    await jest.advanceTimersByTimeAsync(lagMs + TIMEOUT + IN_FLIGHT_GRACE_MS + 5_000);
    await again;
    return h.calls.calls.filter((c) => c.to === ALICE).length;
  }

  async function lateCreate(network: string, lagMs: number): Promise<number> {
    const h = voiceHarness();
    h.calls.script = [{ network, created: false, createdAfterMs: lagMs }];
    const done = h.handler.handleCall(callRequest(h.builder), h.context());
    await jest.advanceTimersByTimeAsync(lagMs + TIMEOUT + IN_FLIGHT_GRACE_MS + 5_000);
    await done;
    return h.calls.calls.filter((c) => c.to === ALICE).length;
  }

  it('the retry after a reset or timeout in the same process waits until that attempt must be over before it lists', async () => {
    for (const network of ['ECONNRESET', 'ETIMEDOUT']) {
      for (const lag of [0, 50, TIMEOUT, TIMEOUT + IN_FLIGHT_GRACE_MS - 50]) {
        expect({ network, lag, calls: await lateCreate(network, lag) }).toEqual({ network, lag, calls: 1 });
      }
    }
  });

  it('places twice only when Twilio executes the attempt later than that: the documented window', async () => {
    expect(await lateCreate('ETIMEDOUT', TIMEOUT + IN_FLIGHT_GRACE_MS + 50)).toBe(2);
  });

  it('catches a late placement of the aborted attempt that lands within timeout + grace of it', async () => {
    for (const lag of [50, TIMEOUT, TIMEOUT + IN_FLIGHT_GRACE_MS - 50]) {
      expect({ lag, calls: await redeliveredAfterAbort(lag) }).toEqual({ lag, calls: 1 });
    }
  });
});

describe('VoiceEgressHandler: a send ledger that forgot its oldest entries (EGRESS_LEDGER_MAX_ENTRIES)', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
  afterEach(() => jest.useRealTimers());
  const BOB = '+14155550199';

  it('a redelivered request whose entry was forgotten lists the callee calls first: nobody is rung twice', async () => {
    const h = voiceHarness({ ledgerMaxEntries: 1 });
    const first = callRequest(h.builder);
    await settleTimers(h.handler.handleCall(first, h.context(0)));
    // A minute later: the ledger forgets from the oldest minute it holds.
    jest.setSystemTime(Date.now() + 60_000);
    await settleTimers(h.handler.handleCall(callRequest(h.builder, { to: BOB }), h.context(1)));
    expect(h.ledger.get(ledgerKey(first.id, ALICE))).toBeUndefined();
    jest.setSystemTime(Date.now() + 3_600_000);
    const again = await settleTimers(h.handler.handleCall(first, h.context(0)));
    expect(h.calls.creates).toHaveLength(2);
    expect(h.calls.lists.length).toBeGreaterThan(0);
    expect(again).toMatchObject({
      type: 'voice.call.accepted',
      data: { deduplicated: true, callSid: h.calls.calls.find((c) => c.to === ALICE)!.sid },
    });
    expect(await metric(h, 'egress_ledger_forgotten_checks_total')).toContain('channel="voice"} 1');
  });

  it('a request younger than anything forgotten is placed without a list', async () => {
    const h = voiceHarness({ ledgerMaxEntries: 1 });
    await settleTimers(h.handler.handleCall(callRequest(h.builder), h.context(0)));
    await settleTimers(h.handler.handleCall(callRequest(h.builder, { to: BOB }), h.context(1)));
    jest.setSystemTime(Date.now() + FORGOTTEN_SKEW_MS + 1_000);
    await settleTimers(h.handler.handleCall(callRequest(h.builder), h.context(2)));
    expect(h.calls.creates).toHaveLength(3);
    expect(h.calls.lists).toHaveLength(0);
  });
});
