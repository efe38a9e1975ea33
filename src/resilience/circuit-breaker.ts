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
 * A read permit (`acquireRead`) takes the same verdicts, but its `success`
 * counts for nothing.
 */
export interface CircuitPermit {
  readonly probe: boolean;
  success(): void;
  failure(): void;
  release(): void;
}

type PermitKind = 'call' | 'probe' | 'read';

interface Waiter {
  resolve: (permit: CircuitPermit) => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Closed → (threshold consecutive failures) → open → (reset timeout, on the
 * clock: no call is needed) → half-open, where probe calls go one at a time:
 * `successThreshold` consecutive successes close it (one by default), a
 * failure opens it again for another reset timeout. While open, callers wait
 * in `acquire()` rather than fail, so work that cannot reach the dependency
 * is delayed, not burned: nothing goes to a DLQ because the dependency is down.
 *
 * Reads (`acquireRead`: a look-up made to reconcile, not the guarded call)
 * wait while open like calls, but never take the probe slot, and their
 * success counts for nothing: it neither closes the circuit nor resets the
 * count of failures (a dependency that answers reads may still fail the
 * call, whose own answer alone closes it). A read's failure counts like a
 * call's: towards the threshold while closed; while half-open it opens the
 * circuit again.
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
  private readonly readWaiters: Waiter[] = [];
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

  /** Callers waiting for a permit (calls and reads). */
  get waiting(): number {
    return this.waiters.length + this.readWaiters.length;
  }

  /** A permit now, or undefined when the circuit is open or its probe is out. */
  tryAcquire(): CircuitPermit | undefined {
    if (this._state === 'closed') return this.permit('call');
    if (this._state === 'half_open' && !this.probeOut) {
      this.probeOut = true;
      return this.permit('probe');
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
    return this.enqueue(this.waiters, signal);
  }

  /**
   * A permit for a read now (closed or half-open: it does not take the probe
   * slot), or undefined while the circuit is open.
   */
  tryAcquireRead(): CircuitPermit | undefined {
    return this._state === 'open' ? undefined : this.permit('read');
  }

  /** Waits while the circuit is open, then lets the read go. Rejects only when `signal` aborts. */
  acquireRead(signal?: AbortSignal): Promise<CircuitPermit> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const p = this.tryAcquireRead();
    return p ? Promise.resolve(p) : this.enqueue(this.readWaiters, signal);
  }

  /** Stops the reset timer (the breaker is being thrown away). */
  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueue(queue: Waiter[], signal: AbortSignal | undefined): Promise<CircuitPermit> {
    return new Promise<CircuitPermit>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = queue.indexOf(w);
          if (i >= 0) queue.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      queue.push(w);
    });
  }

  private permit(kind: PermitKind): CircuitPermit {
    const generation = this.generation;
    let settled = false;
    const settle = (verdict: 'success' | 'failure' | 'release') => {
      if (settled) return;
      settled = true;
      this.onVerdict(verdict, kind, generation);
    };
    return {
      probe: kind === 'probe',
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('release'),
    };
  }

  private onVerdict(verdict: 'success' | 'failure' | 'release', kind: PermitKind, generation: number): void {
    // Answers to permits given before the circuit last changed say nothing about now (and a probe of a
    // half-open period that is over no longer holds the slot).
    if (generation !== this.generation) return;
    if (kind === 'probe') {
      this.probeOut = false;
      if (verdict === 'success') {
        if (++this.probeSuccesses >= this.successThreshold) this.transition('closed');
        else this.wake();
      } else if (verdict === 'failure') this.open();
      else this.wake();
      return;
    }
    if (verdict === 'failure' && kind === 'read' && this._state === 'half_open') {
      this.open();
      return;
    }
    if (this._state !== 'closed') return;
    // A read that succeeds says nothing about the call: it does not reset the count.
    if (verdict === 'success' && kind === 'call') this.failures = 0;
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
    this.probeOut = false;
    this._state = next;
    if (next !== previous) this.options.onStateChange?.(next, previous);
    this.wake();
  }

  // Hands permits to waiters in order: all of them when closed, one probe when half-open; every read unless open.
  private wake(): void {
    if (this._state !== 'open') for (const w of this.readWaiters.splice(0)) CircuitBreaker.hand(w, this.permit('read'));
    while (this.waiters.length > 0) {
      const p = this.tryAcquire();
      if (!p) return;
      CircuitBreaker.hand(this.waiters.shift()!, p);
    }
  }

  private static hand(w: Waiter, p: CircuitPermit): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    w.resolve(p);
  }
}
