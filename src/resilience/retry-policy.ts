import { sleep, systemClock, type Clock } from '../common/clock';

export interface RetryPolicyOptions {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** 0..1: each delay is drawn uniformly from delay × [1 − jitter, 1 + jitter]. */
  jitter: number;
  /** The longest Retry-After honoured; a longer one is capped (the record is still not dropped). */
  maxRetryAfterMs: number;
  /** Injected so tests are deterministic. */
  random?: () => number;
}

/** Production defaults: 5 attempts, 200 ms doubling to 10 s, ±20 % jitter. */
export const DEFAULT_RETRY: RetryPolicyOptions = {
  maxAttempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.2,
  maxRetryAfterMs: 5 * 60_000,
};

/** Under test the same shape with short delays, so suites stay fast without changing behaviour (as kafkajs does). */
export const TEST_RETRY: RetryPolicyOptions = {
  ...DEFAULT_RETRY,
  initialDelayMs: 5,
  maxDelayMs: 100,
  maxRetryAfterMs: 2_000,
};

export function retryOptionsFor(nodeEnv: string): RetryPolicyOptions {
  return nodeEnv === 'test' ? TEST_RETRY : DEFAULT_RETRY;
}

/** What the policy reads from an error: only these two fields. */
export interface RetrySignal {
  retriable?: unknown;
  /** Milliseconds the server asked us to wait (a 429's Retry-After). */
  retryAfterMs?: unknown;
}

export function readRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as RetrySignal).retriable === true;
}

function readRetryAfter(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const v = (err as RetrySignal).retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Exponential backoff with jitter. It decides from the error's `retriable`
 * flag alone, so a programmer error (TypeError, …) is never retried, and it
 * waits at least the Retry-After the server sent.
 */
export class RetryPolicy {
  private readonly random: () => number;

  constructor(readonly options: RetryPolicyOptions = DEFAULT_RETRY) {
    if (!(options.maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1');
    if (options.jitter < 0 || options.jitter > 1) throw new RangeError('jitter must be within 0..1');
    this.random = options.random ?? Math.random;
  }

  /** Whether attempt number `attempt` (1-based) that failed with `err` should be followed by another. */
  shouldRetry(err: unknown, attempt: number): boolean {
    return readRetriable(err) && attempt < this.options.maxAttempts;
  }

  /** The wait before the attempt after `attempt` (1-based). */
  delayMs(attempt: number, err?: unknown): number {
    const o = this.options;
    const base = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.multiplier, Math.max(0, attempt - 1)));
    const jittered = base * (1 - o.jitter + 2 * o.jitter * this.random());
    const retryAfter = readRetryAfter(err);
    return Math.round(
      retryAfter === undefined ? jittered : Math.max(jittered, Math.min(retryAfter, o.maxRetryAfterMs)),
    );
  }

  /**
   * Runs `fn` until it succeeds, throws a non-retriable error, or runs out of
   * attempts (then the last error is thrown). `fn` receives the attempt number.
   */
  async run<T>(
    fn: (attempt: number) => Promise<T>,
    opts: {
      clock?: Clock;
      signal?: AbortSignal;
      onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
    } = {},
  ): Promise<T> {
    const clock = opts.clock ?? systemClock;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!this.shouldRetry(err, attempt) || opts.signal?.aborted) throw err;
        const delay = this.delayMs(attempt, err);
        opts.onRetry?.(err, attempt, delay);
        await sleep(clock, delay, opts.signal);
      }
    }
  }

  /**
   * Runs `fn` until it succeeds or `signal` aborts, however many attempts that
   * takes: for work that must not be given up while the process runs (a record
   * that must reach its outcome or the DLQ, an assignment hook). Returns
   * `{ stopped: true }` when the signal aborted first. An error `retryable`
   * refuses is thrown. The back-off stops growing after `capAttempt` attempts
   * (default 8); `onRetry` runs before each wait (it may await, e.g. a
   * heartbeat).
   */
  async untilStopped<T>(
    fn: (attempt: number) => Promise<T>,
    opts: {
      signal: AbortSignal;
      clock?: Clock;
      retryable?: (err: unknown) => boolean;
      onRetry?: (err: unknown, attempt: number, delayMs: number) => void | Promise<void>;
      capAttempt?: number;
    },
  ): Promise<{ stopped: false; value: T } | { stopped: true }> {
    const clock = opts.clock ?? systemClock;
    for (let attempt = 1; ; attempt++) {
      try {
        return { stopped: false, value: await fn(attempt) };
      } catch (err) {
        if (opts.signal.aborted) return { stopped: true };
        if (opts.retryable && !opts.retryable(err)) throw err;
        const delay = this.delayMs(Math.min(attempt, opts.capAttempt ?? 8), err);
        await opts.onRetry?.(err, attempt, delay);
        try {
          await sleep(clock, delay, opts.signal);
        } catch {
          return { stopped: true };
        }
      }
    }
  }
}
