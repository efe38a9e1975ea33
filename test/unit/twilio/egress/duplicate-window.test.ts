import { IN_FLIGHT_GRACE_MS } from '../../../../src/twilio/egress/stages/ledger-stage';
import { ledgerKey } from '../../../../src/twilio/egress/send-ledger';
import { ACCOUNT, ALICE, harness, request, SENDER } from './fakes';

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
afterEach(() => jest.useRealTimers());

const TIMEOUT = 2_000;

/**
 * The remaining duplicate window, measured. A stale owner wrote its intent at
 * t0 and its call reaches Twilio at t0 + lag (a process that stalled, lost its
 * partitions without knowing, then resumed). The new owner handles the same
 * request from t0: it waits out the stale attempt (intent + timeout + grace),
 * then reconciles. A create that lands before that moment is found; one that
 * lands after it is a second SMS. The test finds the boundary by running the
 * scenario for lags around it, and pins it.
 */
async function scenario(lagMs: number): Promise<number> {
  const h = harness({ twilioTimeoutMs: TIMEOUT });
  const req = request(h.builder, { to: ALICE, body: 'exactly once?' });
  await h.ledger.recordIntent({
    key: ledgerKey(req.id, ALICE),
    requestId: req.id,
    recipient: ALICE,
    accountSid: ACCOUNT,
    attemptAt: Date.now(),
    owner: 'stale-owner',
  });
  setTimeout(
    () => void h.twilio.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'exactly once?' }),
    lagMs,
  );
  const done = h.handler.handle(req, h.context());
  await jest.advanceTimersByTimeAsync(lagMs + TIMEOUT + IN_FLIGHT_GRACE_MS + 1_000);
  await done;
  return h.twilio.messages.filter((m) => m.to === ALICE).length;
}

describe('duplicate window after a stale owner', () => {
  it('catches every send of the stale owner that reaches Twilio within timeout + grace of its intent', async () => {
    for (const lag of [0, 500, TIMEOUT, TIMEOUT + IN_FLIGHT_GRACE_MS - 10]) {
      expect(await scenario(lag)).toBe(1);
    }
  });

  it('texts twice when the stale owner’s call lands later than that: the documented window', async () => {
    const boundary = TIMEOUT + IN_FLIGHT_GRACE_MS;
    for (const lag of [boundary + 10, boundary + 5_000]) {
      expect(await scenario(lag)).toBe(2);
    }
  });
});

/**
 * The same window inside one process. Our call times out (or its connection is reset) at t0, but the request
 * was sent: Twilio may still execute it at t0 + lag. The next attempt must not reconcile before that attempt
 * must be over (its start + timeout + grace, the rule above), or a late create is missed and the retry texts
 * again. The integration test egress-faults found this under CPU starvation: a create executed seconds after the
 * client's timeout, after the retry's reconciliation had listed nothing.
 */
async function lateCreate(network: string, lagMs: number): Promise<number> {
  const h = harness({ twilioTimeoutMs: TIMEOUT });
  h.twilio.script = [{ network, created: false, createdAfterMs: lagMs }];
  const done = h.handler.handle(request(h.builder, { to: ALICE, body: 'exactly once?' }), h.context());
  await jest.advanceTimersByTimeAsync(lagMs + TIMEOUT + IN_FLIGHT_GRACE_MS + 5_000);
  await done;
  return h.twilio.messages.filter((m) => m.to === ALICE).length;
}

describe('duplicate window after an ambiguous failure in the same process', () => {
  it('catches a late create of its own timed-out or reset attempt that lands within timeout + grace of the attempt', async () => {
    for (const network of ['ECONNABORTED', 'ECONNRESET']) {
      for (const lag of [0, 100, 500, TIMEOUT, TIMEOUT + IN_FLIGHT_GRACE_MS - 10]) {
        expect({ network, lag, messages: await lateCreate(network, lag) }).toEqual({ network, lag, messages: 1 });
      }
    }
  });

  it('texts twice only when Twilio executes the attempt later than that: the documented window', async () => {
    const boundary = TIMEOUT + IN_FLIGHT_GRACE_MS;
    expect(await lateCreate('ECONNABORTED', boundary + 10)).toBe(2);
  });
});

/**
 * A record redelivered to the same process after its attempt was aborted (the partition was lost, a detached
 * batch was told to stop, the drain deadline passed): the new delivery finds this process's own intent. The
 * aborted attempt's create may still be executed by Twilio, so the new delivery must not reconcile before that
 * attempt must be over, as for another owner's intent.
 */
async function redeliveredAfterAbort(lagMs: number): Promise<number> {
  const h = harness({ twilioTimeoutMs: TIMEOUT });
  const req = request(h.builder, { to: ALICE, body: 'exactly once?' });
  h.twilio.script = [{ network: 'ECONNRESET', created: false, createdAfterMs: lagMs }];
  const first = new AbortController();
  const aborted = h.handler.handle(req, { ...h.context(), signal: first.signal }).catch((e: unknown) => e);
  // The reset comes at once; the retry waits for the attempt to be over, and the record is aborted meanwhile.
  await jest.advanceTimersByTimeAsync(100);
  first.abort(new Error('partition lost'));
  expect(await aborted).toBeInstanceOf(Error);
  expect(h.twilio.creates).toHaveLength(1);
  const again = h.handler.handle(req, h.context());
  await jest.advanceTimersByTimeAsync(lagMs + TIMEOUT + IN_FLIGHT_GRACE_MS + 5_000);
  await again;
  return h.twilio.messages.filter((m) => m.to === ALICE).length;
}

describe('duplicate window after an aborted attempt redelivered to the same process', () => {
  it('catches a late create of the aborted attempt that lands within timeout + grace of it', async () => {
    for (const lag of [200, 1_000, TIMEOUT, TIMEOUT + IN_FLIGHT_GRACE_MS - 200]) {
      expect({ lag, messages: await redeliveredAfterAbort(lag) }).toEqual({ lag, messages: 1 });
    }
  });
});
