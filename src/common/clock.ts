/**
 * Time as a dependency. The rate limiter, circuit breaker and retry policy read
 * the time and wait only through a Clock, so unit tests drive them with fake
 * timers instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export type ClockTimer = { readonly __timer: true } | NodeJS.Timeout;

/**
 * The real clock. Timers are unref'd: a pending wait must never keep a stopped
 * process alive. `Date.now`/`setTimeout` are looked up on every call so jest's
 * fake timers also drive it.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** Rejects with the signal's reason when it is aborted. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** Waits `ms` on the clock; rejects early when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A clock reading the time from `now` (a fixed or stepped time in tests, say) and waiting on real timers. */
export function clockFrom(now: () => number): Clock {
  return { now, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
}
