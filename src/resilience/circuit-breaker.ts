import { abortError, systemClock, type Clock, type ClockTimer } from '../common/clock';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** The value of `twilio_circuit_breaker_state` for each state. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (TWILIO_CIRCUIT_FAILURE_THRESHOLD). */
  failureThreshold: number;
  /** How long it stays open before one probe is let through (TWILIO_CIRCUIT_RESET_TIMEOUT_SECS). */
  resetTimeoutMs: number;
  /**
   * Consecutive successful half-open probes that close the circuit (TWILIO_CIRCUIT_SUCCESS_THRESHOLD,
   * default 1). Probes go one at a time; any failure opens it again.
   */
  successThreshold?: number;
  clock?: Clock;
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
}

/**
 * A call let through by the breaker. Exactly one verdict counts: `success`
 * (the dependency answered), `failure` (it is down: 5xx, timeout, reset) or
 * `release` (no verdict, e.g. the caller was aborted before the call).
 */
export interface CircuitPermit {
  readonly probe: boolean;
  success(): void;
  failure(): void;
  release(): void;
}

interface Waiter {
  resolve: (permit: CircuitPermit) => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Closed → (threshold consecutive failures) → open → (reset timeout) →
 * half-open, where probe calls go one at a time: `successThreshold`
 * consecutive successes close it (one by default), a failure opens it again
 * for another reset timeout. While open, callers wait in `acquire()`
 * rather than fail, so work that cannot reach the dependency is delayed, not
 * burned: nothing goes to a DLQ because the dependency is down.
 */
export class CircuitBreaker {
  private _state: CircuitState = 'closed';
  private failures = 0;
  private generation = 0;
  private probeOut = false;
  private probeSuccesses = 0;
  private readonly successThreshold: number;
  private timer: ClockTimer | undefined;
  private openedAt = 0;
  private readonly waiters: Waiter[] = [];
  private readonly clock: Clock;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!(options.failureThreshold >= 1)) throw new RangeError('failureThreshold must be at least 1');
    if (!(options.resetTimeoutMs > 0)) throw new RangeError('resetTimeoutMs must be positive');
    this.successThreshold = options.successThreshold ?? 1;
    if (!(this.successThreshold >= 1)) throw new RangeError('successThreshold must be at least 1');
    this.clock = options.clock ?? systemClock;
  }

  get state(): CircuitState {
    return this._state;
  }

  /** Consecutive failures counted while closed. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** When the circuit last opened (clock ms), 0 if never. */
  get lastOpenedAt(): number {
    return this.openedAt;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** A permit now, or undefined when the circuit is open or its probe is out. */
  tryAcquire(): CircuitPermit | undefined {
    if (this._state === 'closed') return this.permit(false);
    if (this._state === 'half_open' && !this.probeOut) {
      this.probeOut = true;
      return this.permit(true);
    }
    return undefined;
  }

  /** Waits (FIFO) until a call may go. Rejects only when `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<CircuitPermit> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.waiters.length === 0) {
      const p = this.tryAcquire();
      if (p) return Promise.resolve(p);
    }
    return new Promise<CircuitPermit>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  /** Stops the reset timer (the breaker is being thrown away). */
  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private permit(probe: boolean): CircuitPermit {
    const generation = this.generation;
    let settled = false;
    const settle = (verdict: 'success' | 'failure' | 'release') => {
      if (settled) return;
      settled = true;
      this.onVerdict(verdict, probe, generation);
    };
    return {
      probe,
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('release'),
    };
  }

  private onVerdict(verdict: 'success' | 'failure' | 'release', probe: boolean, generation: number): void {
    if (probe) {
      this.probeOut = false;
      if (verdict === 'success') {
        if (++this.probeSuccesses >= this.successThreshold) this.transition('closed');
        else this.wake();
      } else if (verdict === 'failure') this.open();
      else this.wake();
      return;
    }
    // Answers to calls made before the circuit last changed say nothing about now.
    if (generation !== this.generation || this._state !== 'closed') return;
    if (verdict === 'success') this.failures = 0;
    else if (verdict === 'failure' && ++this.failures >= this.options.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.transition('open');
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.transition('half_open');
    }, this.options.resetTimeoutMs);
  }

  private transition(next: CircuitState): void {
    const previous = this._state;
    this.generation++;
    this.failures = 0;
    this.probeSuccesses = 0;
    this._state = next;
    if (next !== previous) this.options.onStateChange?.(next, previous);
    this.wake();
  }

  // Hands permits to waiters in order: all of them when closed, one probe when half-open.
  private wake(): void {
    while (this.waiters.length > 0) {
      const p = this.tryAcquire();
      if (!p) return;
      const w = this.waiters.shift()!;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(p);
    }
  }
}
