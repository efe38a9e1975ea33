import { IngressEgressError } from '../../../src/errors';
import { systemClock } from '../../../src/common/clock';
import { DEFAULT_RETRY, RetryPolicy, retryOptionsFor, TEST_RETRY } from '../../../src/resilience/retry-policy';

const retriable = (retryAfterMs?: number) =>
  Object.assign(
    new IngressEgressError('IE_KAFKA_UNAVAILABLE', 'down'),
    retryAfterMs === undefined ? {} : { retryAfterMs },
  );

describe('RetryPolicy', () => {
  it('backs off exponentially with bounded jitter up to the maximum', () => {
    const low = new RetryPolicy({ ...DEFAULT_RETRY, random: () => 0 });
    const high = new RetryPolicy({ ...DEFAULT_RETRY, random: () => 1 });
    expect([1, 2, 3, 4].map((a) => low.delayMs(a))).toEqual([160, 320, 640, 1280]);
    expect([1, 2, 3, 4].map((a) => high.delayMs(a))).toEqual([240, 480, 960, 1920]);
    expect(low.delayMs(20)).toBe(8_000);
    expect(high.delayMs(20)).toBe(12_000);
  });

  it('waits at least the Retry-After, capped', () => {
    const p = new RetryPolicy({ ...DEFAULT_RETRY, random: () => 0.5 });
    expect(p.delayMs(1, retriable(5_000))).toBe(5_000);
    expect(p.delayMs(1, retriable(1))).toBe(200);
    expect(p.delayMs(1, retriable(60 * 60_000))).toBe(DEFAULT_RETRY.maxRetryAfterMs);
  });

  it('reads only the retriable flag and never retries programmer errors', () => {
    const p = new RetryPolicy();
    expect(p.shouldRetry(retriable(), 1)).toBe(true);
    expect(p.shouldRetry(retriable(), DEFAULT_RETRY.maxAttempts)).toBe(false);
    expect(p.shouldRetry(new TypeError('x is undefined'), 1)).toBe(false);
    expect(p.shouldRetry(new IngressEgressError('IE_INTERNAL', 'bug'), 1)).toBe(false);
    expect(p.shouldRetry({ retriable: 'yes' }, 1)).toBe(false);
    expect(p.shouldRetry({ retriable: true }, 1)).toBe(true);
  });

  it('uses shorter delays under test', () => {
    expect(retryOptionsFor('test')).toBe(TEST_RETRY);
    expect(retryOptionsFor('production')).toBe(DEFAULT_RETRY);
    expect(TEST_RETRY.maxDelayMs).toBeLessThan(DEFAULT_RETRY.maxDelayMs);
  });

  describe('run', () => {
    beforeEach(() => jest.useFakeTimers({ now: 0 }));
    afterEach(() => jest.useRealTimers());

    it('retries until success, waiting between attempts on the clock', async () => {
      const p = new RetryPolicy({ ...DEFAULT_RETRY, random: () => 0.5 });
      const calls: number[] = [];
      const result = p.run(
        async (attempt) => {
          calls.push(Date.now());
          if (attempt < 3) throw retriable();
          return 'ok';
        },
        { clock: systemClock },
      );
      await jest.advanceTimersByTimeAsync(1_000);
      await expect(result).resolves.toBe('ok');
      expect(calls).toEqual([0, 200, 600]);
    });

    it('gives up after maxAttempts with the last error, and at once on a permanent one', async () => {
      const p = new RetryPolicy({ ...DEFAULT_RETRY, maxAttempts: 2, random: () => 0.5 });
      let n = 0;
      const r = p.run(
        async () => {
          n++;
          throw retriable();
        },
        { clock: systemClock },
      );
      const settled = expect(r).rejects.toThrow('down');
      await jest.advanceTimersByTimeAsync(1_000);
      await settled;
      expect(n).toBe(2);
      n = 0;
      await expect(
        p.run(async () => {
          n++;
          throw new Error('bug');
        }),
      ).rejects.toThrow('bug');
      expect(n).toBe(1);
    });

    it('stops waiting when aborted', async () => {
      const p = new RetryPolicy();
      const ac = new AbortController();
      const r = p.run(
        async () => {
          throw retriable();
        },
        { clock: systemClock, signal: ac.signal },
      );
      const settled = expect(r).rejects.toThrow('stop');
      await jest.advanceTimersByTimeAsync(10);
      ac.abort(new Error('stop'));
      await settled;
    });
  });
});

describe('RetryPolicy.untilStopped', () => {
  const quick = new RetryPolicy({ ...TEST_RETRY, initialDelayMs: 1, maxDelayMs: 2, jitter: 0 });

  it('retries past maxAttempts until the work succeeds, reporting each retry', async () => {
    let calls = 0;
    const retries: number[] = [];
    const r = await quick.untilStopped(
      async () => {
        if (++calls < 6) throw retriable();
        return 'sent';
      },
      { signal: new AbortController().signal, onRetry: (_e, attempt) => void retries.push(attempt) },
    );
    expect(r).toEqual({ stopped: false, value: 'sent' });
    expect(retries).toEqual([1, 2, 3, 4, 5]);
  });

  it('throws what `retryable` refuses, at once', async () => {
    let calls = 0;
    const bug = new TypeError('bug');
    await expect(
      quick.untilStopped(
        async () => {
          calls++;
          throw bug;
        },
        { signal: new AbortController().signal, retryable: (e) => e !== bug },
      ),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it('reports stopped when the signal aborts, during the work or the wait', async () => {
    const during = new AbortController();
    const r1 = await quick.untilStopped(
      async () => {
        during.abort();
        throw retriable();
      },
      { signal: during.signal },
    );
    expect(r1).toEqual({ stopped: true });

    const waiting = new AbortController();
    const slow = new RetryPolicy({ ...TEST_RETRY, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 });
    const r2 = slow.untilStopped(
      async () => {
        throw retriable();
      },
      { signal: waiting.signal, clock: systemClock, onRetry: () => waiting.abort() },
    );
    await expect(r2).resolves.toEqual({ stopped: true });
  });
});
