import fc from 'fast-check';
import { systemClock } from '../../../src/common/clock';
import { TokenBucket } from '../../../src/resilience/token-bucket';

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

/** N callers that each take a token as soon as the previous one was granted, recording grant times. */
function demand(bucket: TokenBucket, callers: number, until: number): number[] {
  const grants: number[] = [];
  const loop = async () => {
    while (Date.now() < until) {
      await bucket.take();
      if (Date.now() < until) grants.push(Date.now());
    }
  };
  for (let i = 0; i < callers; i++) void loop();
  return grants;
}

/** The most grants in any window of `windowMs` (grants are sorted). */
function maxInWindow(grants: number[], windowMs: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < grants.length; i++) {
    while (grants[i]! - grants[j]! > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('TokenBucket', () => {
  it('lets the burst through at once, then queues callers instead of dropping them', async () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 3, clock: systemClock });
    const results = await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(results).toEqual([false, false, false]);
    let granted = false;
    void bucket.take().then((waited) => {
      granted = waited;
    });
    await jest.advanceTimersByTimeAsync(99);
    expect(granted).toBe(false);
    expect(bucket.waiting).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(granted).toBe(true);
    expect(bucket.waiting).toBe(0);
  });

  it('holds the configured rate within ±2 % over 30 s of saturation', async () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 30, clock: systemClock });
    const start = Date.now();
    const grants = demand(bucket, 50, start + 40_000);
    await jest.advanceTimersByTimeAsync(40_000);
    // Skip the first 10 s so the initial burst does not count as rate.
    const from = start + 10_000;
    const inWindow = grants.filter((t) => t >= from && t < from + 30_000).length;
    expect(inWindow).toBeGreaterThanOrEqual(300 * 0.98);
    expect(inWindow).toBeLessThanOrEqual(300 * 1.02);
  });

  it('holds a fractional rate too (7.3/s)', async () => {
    const bucket = new TokenBucket({ ratePerSec: 7.3, burst: 5, clock: systemClock });
    const start = Date.now();
    const grants = demand(bucket, 20, start + 35_000);
    await jest.advanceTimersByTimeAsync(35_000);
    const inWindow = grants.filter((t) => t >= start + 5_000 && t < start + 35_000).length;
    expect(Math.abs(inWindow - 219) / 219).toBeLessThanOrEqual(0.02);
  });

  it('never grants more than burst + rate × T in any window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.5, max: 200, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        async (rate, burst, callers) => {
          jest.setSystemTime(1_000_000);
          const bucket = new TokenBucket({ ratePerSec: rate, burst, clock: systemClock });
          const start = Date.now();
          const grants = demand(bucket, callers, start + 5_000);
          await jest.advanceTimersByTimeAsync(5_000);
          // Instantaneous: never more than the burst.
          expect(maxInWindow(grants, 0)).toBeLessThanOrEqual(burst);
          for (const w of [10, 100, 1_000, 2_500]) {
            expect(maxInWindow(grants, w)).toBeLessThanOrEqual(Math.floor(burst + (rate * w) / 1000) + 1e-9);
          }
          await jest.advanceTimersByTimeAsync(60_000);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('serves waiters first come, first served', async () => {
    const bucket = new TokenBucket({ ratePerSec: 1, burst: 1, clock: systemClock });
    await bucket.take();
    const order: number[] = [];
    const all = [1, 2, 3].map((n) => bucket.take().then(() => order.push(n)));
    await jest.advanceTimersByTimeAsync(3_000);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
  });

  it('removes an aborted waiter and lets the next one through', async () => {
    const bucket = new TokenBucket({ ratePerSec: 1, burst: 1, clock: systemClock });
    await bucket.take();
    const ac = new AbortController();
    const aborted = bucket.take(ac.signal);
    const next = bucket.take();
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(bucket.waiting).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(next).resolves.toBe(true);
  });

  it('reconfigures in place and reports idleness', async () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 10, clock: systemClock });
    expect(bucket.isIdle()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.isIdle()).toBe(false);
    bucket.configure(5, 2);
    expect(bucket.available()).toBeLessThanOrEqual(2);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(bucket.isIdle()).toBe(true);
    expect(() => bucket.configure(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSec: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('TokenBucket urgent callers', () => {
  it('serves an urgent caller before every queued non-urgent one, urgent ones in order', async () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 1, clock: systemClock });
    await bucket.take();
    const order: string[] = [];
    const take = (name: string, urgent: boolean) =>
      bucket.take(undefined, { urgent }).then(() => order.push(`${name}@${Date.now() - 1_000_000}`));
    const all = [take('n1', false), take('n2', false), take('n3', false)];
    all.push(take('u1', true), take('u2', true));
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all(all);
    expect(order).toEqual(['u1@100', 'u2@200', 'n1@300', 'n2@400', 'n3@500']);
  });

  it('takes an available token at once even while non-urgent callers queue, and never more than the rate', async () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 2, clock: systemClock });
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    const normal = bucket.take();
    await jest.advanceTimersByTimeAsync(50);
    // Half a token: the urgent caller queues too, ahead of the normal one.
    let urgentAt = 0;
    const urgent = bucket.take(undefined, { urgent: true }).then(() => (urgentAt = Date.now() - 1_000_000));
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all([normal, urgent]);
    expect(urgentAt).toBe(100);
    expect(bucket.tryTake(true)).toBe(true);
  });

  it('an aborted urgent waiter leaves the queue to the others', async () => {
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 1, clock: systemClock });
    await bucket.take();
    const ac = new AbortController();
    const urgent = bucket.take(ac.signal, { urgent: true });
    let normalAt = 0;
    const normal = bucket.take().then(() => (normalAt = Date.now() - 1_000_000));
    ac.abort();
    await expect(urgent).rejects.toThrow();
    await jest.advanceTimersByTimeAsync(500);
    await normal;
    expect(normalAt).toBe(100);
  });
});
