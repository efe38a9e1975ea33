import { IN_FLIGHT_GRACE_MS, untilAttemptOver, waitUntilAttemptOver } from '../../../../src/twilio/egress/attempt-over';
import type { Delivery } from '../../../../src/twilio/egress/delivery';
import { harness } from './fakes';

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
afterEach(() => jest.useRealTimers());

const TIMEOUT = 2_000;

function delivery(h: ReturnType<typeof harness>, lastAttemptAt: number | undefined): Delivery {
  return { context: h.context(), lastAttemptAt } as unknown as Delivery;
}

describe('untilAttemptOver', () => {
  it('is the attempt start + timeout + grace from now, never negative, and 0 before any attempt', () => {
    const h = harness({ twilioTimeoutMs: TIMEOUT });
    const now = Date.now();
    expect(untilAttemptOver(h.deps, delivery(h, undefined))).toBe(0);
    expect(untilAttemptOver(h.deps, delivery(h, now))).toBe(TIMEOUT + IN_FLIGHT_GRACE_MS);
    expect(untilAttemptOver(h.deps, delivery(h, now - 500))).toBe(TIMEOUT + IN_FLIGHT_GRACE_MS - 500);
    expect(untilAttemptOver(h.deps, delivery(h, now - 60_000))).toBe(0);
  });

  it('waits exactly that long on the injected clock', async () => {
    const h = harness({ twilioTimeoutMs: TIMEOUT });
    let done = false;
    const wait = waitUntilAttemptOver(h.deps, delivery(h, Date.now() - 1_000)).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(TIMEOUT + IN_FLIGHT_GRACE_MS - 1_000 - 1);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await wait;
    expect(done).toBe(true);
  });
});
