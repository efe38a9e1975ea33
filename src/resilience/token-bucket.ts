import { abortError, systemClock, type Clock, type ClockTimer } from '../common/clock';

export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSec: number;
  /** Most tokens the bucket holds: the largest burst it lets through at once. */
  burst: number;
  clock?: Clock;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Served before every waiter without it (in order among themselves). */
  urgent: boolean;
}

// Refills are computed in floating point; without a little slack a bucket can
// sit at 0.9999999 tokens and make a waiter take one extra timer round.
const EPSILON = 1e-9;

/**
 * A token bucket that delays, never drops. It starts full; `take()` resolves
 * at once while tokens remain and otherwise queues the caller (first come,
 * first served) until a token has been refilled. Over any window of length T
 * it grants at most `burst + rate × T` tokens. An urgent caller
 * (`take(signal, { urgent: true })`) queues ahead of every non-urgent one, so
 * it waits at most for the next token however many others are queued.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private rate: number;
  private capacity: number;
  private readonly clock: Clock;
  private readonly waiters: Waiter[] = [];
  private timer: ClockTimer | undefined;

  constructor(options: TokenBucketOptions) {
    TokenBucket.check(options.ratePerSec, options.burst);
    this.clock = options.clock ?? systemClock;
    this.rate = options.ratePerSec;
    this.capacity = options.burst;
    this.tokens = options.burst;
    this.last = this.clock.now();
  }

  private static check(rate: number, burst: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError('token bucket rate must be a positive number');
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError('token bucket burst must be at least 1');
  }

  get ratePerSec(): number {
    return this.rate;
  }

  get burst(): number {
    return this.capacity;
  }

  /** Callers queued for a token. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** True when the bucket is full and nobody waits: it behaves exactly like a new one and can be dropped. */
  isIdle(): boolean {
    return this.waiters.length === 0 && this.available() >= this.capacity - EPSILON;
  }

  /** Changes the rate and burst (e.g. this instance's share of the account limit); queued callers keep their place. */
  configure(ratePerSec: number, burst: number): void {
    TokenBucket.check(ratePerSec, burst);
    this.refill();
    this.rate = ratePerSec;
    this.capacity = burst;
    this.tokens = Math.min(this.tokens, burst);
    this.reschedule();
  }

  /** Takes a token if one is available without waiting (an urgent caller only yields to urgent waiters). */
  tryTake(urgent = false): boolean {
    if (urgent ? this.waiters[0]?.urgent === true : this.waiters.length > 0) return false;
    this.refill();
    if (this.tokens >= 1 - EPSILON) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Resolves when a token is granted. Resolves to false when it was granted at
   * once, true when the caller had to wait (callers count rate-limit hits).
   */
  take(signal?: AbortSignal, options: { urgent?: boolean } = {}): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const urgent = options.urgent === true;
    if (this.tryTake(urgent)) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter = { resolve: () => resolve(true), reject, signal, onAbort: undefined, urgent };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          this.reschedule();
          reject(abortError(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (urgent) {
        const firstNormal = this.waiters.findIndex((w) => !w.urgent);
        this.waiters.splice(firstNormal < 0 ? this.waiters.length : firstNormal, 0, waiter);
      } else {
        this.waiters.push(waiter);
      }
      this.reschedule();
    });
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000);
    }
    this.last = Math.max(this.last, now);
  }

  private grant(): void {
    this.timer = undefined;
    this.refill();
    while (this.waiters.length > 0 && this.tokens >= 1 - EPSILON) {
      const w = this.waiters.shift()!;
      this.tokens -= 1;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.resolve();
    }
    this.reschedule();
  }

  private reschedule(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.waiters.length === 0) return;
    this.refill();
    const missing = Math.max(0, 1 - this.tokens);
    // Round up so the timer never fires before the token is really there.
    const ms = Math.ceil((missing * 1000) / this.rate);
    this.timer = this.clock.setTimeout(() => this.grant(), ms);
  }
}
