import { systemClock } from '../../../src/common/clock';
import { CircuitBreaker, type CircuitState } from '../../../src/resilience/circuit-breaker';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

function breaker(states: CircuitState[] = [], successThreshold?: number) {
  return new CircuitBreaker({
    failureThreshold: 3,
    resetTimeoutMs: 30_000,
    successThreshold,
    clock: systemClock,
    onStateChange: (s) => states.push(s),
  });
}

async function fail(cb: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) (await cb.acquire()).failure();
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures; a success in between resets the count', async () => {
    const states: CircuitState[] = [];
    const cb = breaker(states);
    await fail(cb, 2);
    (await cb.acquire()).success();
    await fail(cb, 2);
    expect(cb.state).toBe('closed');
    await fail(cb, 1);
    expect(cb.state).toBe('open');
    expect(states).toEqual(['open']);
    expect(cb.tryAcquire()).toBeUndefined();
  });

  it('pauses callers while open, half-opens after the reset timeout, lets one probe through and recovers', async () => {
    const states: CircuitState[] = [];
    const cb = breaker(states);
    await fail(cb, 3);
    const granted: boolean[] = [];
    const waiting = [0, 1, 2].map((i) =>
      cb.acquire().then((p) => {
        granted[i] = p.probe;
        return p;
      }),
    );
    await jest.advanceTimersByTimeAsync(29_999);
    expect(granted).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(cb.state).toBe('half_open');
    // Exactly one probe; the others still wait.
    expect(granted).toEqual([true]);
    const probe = await waiting[0]!;
    probe.success();
    await Promise.resolve();
    expect(cb.state).toBe('closed');
    const rest = await Promise.all(waiting.slice(1));
    expect(rest.map((p) => p.probe)).toEqual([false, false]);
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('with a success threshold of 3, closes only after 3 successful probes in a row, one at a time', async () => {
    const states: CircuitState[] = [];
    const cb = breaker(states, 3);
    await fail(cb, 3);
    await jest.advanceTimersByTimeAsync(30_000);
    const first = await cb.acquire();
    expect(first.probe).toBe(true);
    expect(cb.tryAcquire()).toBeUndefined(); // one probe at a time
    first.success();
    expect(cb.state).toBe('half_open');
    const second = await cb.acquire();
    expect(second.probe).toBe(true);
    second.success();
    expect(cb.state).toBe('half_open');
    const third = await cb.acquire();
    third.success();
    expect(cb.state).toBe('closed');
    expect(cb.tryAcquire()?.probe).toBe(false);
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('with a success threshold, a failed probe re-opens and the count of successes starts again', async () => {
    const cb = breaker([], 2);
    await fail(cb, 3);
    await jest.advanceTimersByTimeAsync(30_000);
    (await cb.acquire()).success();
    (await cb.acquire()).failure();
    expect(cb.state).toBe('open');
    await jest.advanceTimersByTimeAsync(30_000);
    (await cb.acquire()).success();
    expect(cb.state).toBe('half_open');
    (await cb.acquire()).success();
    expect(cb.state).toBe('closed');
  });

  it('refuses a success threshold below 1', () => {
    expect(() => breaker([], 0)).toThrow(RangeError);
  });

  it('re-opens for another reset timeout when the probe fails', async () => {
    const states: CircuitState[] = [];
    const cb = breaker(states);
    await fail(cb, 3);
    await jest.advanceTimersByTimeAsync(30_000);
    const probe = await cb.acquire();
    expect(probe.probe).toBe(true);
    probe.failure();
    expect(cb.state).toBe('open');
    expect(cb.lastOpenedAt).toBe(30_000);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(cb.state).toBe('half_open');
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open']);
  });

  it('hands the probe to the next caller when the probe is released without a verdict', async () => {
    const cb = breaker();
    await fail(cb, 3);
    await jest.advanceTimersByTimeAsync(30_000);
    const first = await cb.acquire();
    const second = cb.acquire();
    first.release();
    const p = await second;
    expect(p.probe).toBe(true);
    expect(cb.state).toBe('half_open');
  });

  it('ignores late answers from calls made before the circuit opened', async () => {
    const cb = breaker();
    const late = await cb.acquire();
    await fail(cb, 3);
    late.success();
    expect(cb.state).toBe('open');
    // A permit counts once.
    const p = cb.tryAcquire();
    expect(p).toBeUndefined();
  });

  it('rejects a waiting caller that is aborted', async () => {
    const cb = breaker();
    await fail(cb, 3);
    const ac = new AbortController();
    const w = cb.acquire(ac.signal);
    expect(cb.waiting).toBe(1);
    ac.abort(new Error('stopping'));
    await expect(w).rejects.toThrow('stopping');
    expect(cb.waiting).toBe(0);
    cb.dispose();
  });

  it('validates its options', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, resetTimeoutMs: 1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 0 })).toThrow(RangeError);
  });

  describe('reads (reconciliation lists): only a call closes the circuit', () => {
    async function halfOpen(states: CircuitState[] = []) {
      const cb = breaker(states);
      await fail(cb, 3);
      await jest.advanceTimersByTimeAsync(30_000);
      expect(cb.state).toBe('half_open');
      return cb;
    }

    it('a successful read while half-open neither closes the circuit nor takes the probe slot', async () => {
      const states: CircuitState[] = [];
      const cb = await halfOpen(states);
      const read = cb.tryAcquireRead()!;
      expect(read.probe).toBe(false);
      expect(cb.tryAcquireRead()).toBeDefined(); // reads do not go one at a time
      read.success();
      expect(cb.state).toBe('half_open');
      const probe = cb.tryAcquire()!;
      expect(probe.probe).toBe(true);
      probe.success();
      expect(states).toEqual(['open', 'half_open', 'closed']);
    });

    it('a read taken while the probe is out goes at once, and its success does not close the circuit', async () => {
      const cb = await halfOpen();
      const probe = cb.tryAcquire()!;
      const read = await cb.acquireRead();
      read.success();
      expect(cb.state).toBe('half_open');
      probe.failure();
      expect(cb.state).toBe('open');
    });

    it('a failed read re-opens a half-open circuit, and the probe answer that comes after it counts for nothing', async () => {
      const states: CircuitState[] = [];
      const cb = await halfOpen(states);
      const probe = cb.tryAcquire()!;
      cb.tryAcquireRead()!.failure();
      expect(cb.state).toBe('open');
      probe.success(); // answers a half-open period that is over
      expect(cb.state).toBe('open');
      await jest.advanceTimersByTimeAsync(30_000);
      // The stale probe does not hold the new period's slot.
      expect(cb.tryAcquire()?.probe).toBe(true);
      expect(states).toEqual(['open', 'half_open', 'open', 'half_open']);
    });

    it('while closed, failed reads count towards the threshold and successful ones do not reset the count', async () => {
      const cb = breaker();
      (await cb.acquire()).failure();
      (await cb.acquireRead()).success();
      cb.tryAcquireRead()!.failure();
      expect(cb.consecutiveFailures).toBe(2);
      cb.tryAcquireRead()!.release();
      expect(cb.state).toBe('closed');
      cb.tryAcquireRead()!.failure();
      expect(cb.state).toBe('open');
    });

    it('reads wait while the circuit is open and all go when it half-opens; an aborted one is rejected', async () => {
      const cb = breaker();
      await fail(cb, 3);
      expect(cb.tryAcquireRead()).toBeUndefined();
      const ac = new AbortController();
      const reads = [cb.acquireRead(), cb.acquireRead(), cb.acquireRead(ac.signal)];
      const call = cb.acquire();
      expect(cb.waiting).toBe(4);
      ac.abort(new Error('stopping'));
      await expect(reads[2]).rejects.toThrow('stopping');
      expect(cb.waiting).toBe(3);
      await jest.advanceTimersByTimeAsync(30_000);
      expect((await Promise.all(reads.slice(0, 2))).map((p) => p.probe)).toEqual([false, false]);
      expect((await call).probe).toBe(true);
      expect(cb.waiting).toBe(0);
      await expect(cb.acquireRead(ac.signal)).rejects.toThrow('stopping');
    });

    it('a late read answer from before the circuit opened counts for nothing', async () => {
      const cb = breaker();
      const late = cb.tryAcquireRead()!;
      await fail(cb, 3);
      await jest.advanceTimersByTimeAsync(30_000);
      late.failure();
      expect(cb.state).toBe('half_open');
    });
  });
});
