import { CIRCUIT_STATE_VALUE, CircuitBreaker, type CircuitState, type Clock } from '../../resilience';

export interface AccountCircuitsOptions {
  failureThreshold: number;
  resetTimeoutMs: number;
  /** Consecutive successful half-open probes that close a circuit (default 1). */
  successThreshold?: number;
  clock: Clock;
  /** Called with the worst state over all accounts whenever one changes (metrics, consumer pause). */
  onChange?: (worst: CircuitState, accountSid: string, state: CircuitState) => void;
}

export type CircuitListener = (accountSid: string, state: CircuitState, previous: CircuitState) => void;

/** One circuit breaker per Twilio account: one subaccount's outage does not stop the others. */
export class AccountCircuits {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly listeners = new Set<CircuitListener>();

  constructor(private readonly o: AccountCircuitsOptions) {}

  for(accountSid: string): CircuitBreaker {
    let b = this.breakers.get(accountSid);
    if (!b) {
      b = new CircuitBreaker({
        failureThreshold: this.o.failureThreshold,
        resetTimeoutMs: this.o.resetTimeoutMs,
        successThreshold: this.o.successThreshold,
        clock: this.o.clock,
        onStateChange: (state, previous) => {
          this.o.onChange?.(this.worst(), accountSid, state);
          for (const listener of this.listeners) listener(accountSid, state, previous);
        },
      });
      this.breakers.set(accountSid, b);
    }
    return b;
  }

  /**
   * Calls `listener` on every state change of any account's circuit, however
   * brief (a half-open probe can fail within a millisecond). Returns the
   * function that unsubscribes it.
   */
  subscribe(listener: CircuitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** open > half_open > closed over every account. */
  worst(): CircuitState {
    let worst: CircuitState = 'closed';
    for (const b of this.breakers.values()) {
      if (CIRCUIT_STATE_VALUE[b.state] > CIRCUIT_STATE_VALUE[worst]) worst = b.state;
    }
    return worst;
  }

  /** True while any account's circuit is open (the consumer pauses fetching). */
  anyOpen(): boolean {
    for (const b of this.breakers.values()) if (b.state === 'open') return true;
    return false;
  }

  dispose(): void {
    for (const b of this.breakers.values()) b.dispose();
  }
}
