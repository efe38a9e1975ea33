import type { FaultMatch, FaultRegistry, FaultRule, FaultView } from './faults';
import type { FinalStatus, OutcomeRules } from './outcomes';
import type { CallbackChaos, StatusCallbacks } from './status-callbacks';

/**
 * The test-facing fault API (`sim.faults.*`): shorthands over the fault
 * registry, per-number outcomes and callback chaos. Every shorthand returns the
 * rule id so a test can remove just that rule.
 */
export interface FaultScope {
  match?: FaultMatch;
  /** Only the next N matching requests. */
  times?: number;
  /** Seeded chance per matching request. */
  probability?: number;
}

export class FaultControls {
  constructor(
    private readonly registry: FaultRegistry,
    private readonly outcomes: OutcomeRules,
    private readonly statusCallbacks: StatusCallbacks,
    private readonly defaultChaos: CallbackChaos,
  ) {}

  /** Any rule, as JSON (the HTTP control API uses this). */
  add(rule: FaultRule): string {
    return this.registry.add(rule);
  }

  remove(id: string): boolean {
    return this.registry.remove(id);
  }

  list(): FaultView[] {
    return this.registry.list();
  }

  /** Every REST answer that matches waits `ms` (real time) first; the message is created before the wait. */
  latency(ms: number, scope: FaultScope & { jitterMs?: number } = {}): string {
    return this.registry.add({ kind: 'latency', ms, ...scope });
  }

  /** 429 with Twilio code 20429, optionally with Retry-After. */
  rateLimit(scope: FaultScope & { retryAfterSeconds?: number } = {}): string {
    return this.registry.add({ kind: 'rate-limit', ...scope });
  }

  /** A 5xx answer (500 by default; 503 carries code 20503). */
  serverError(scope: FaultScope & { status?: number } = {}): string {
    return this.registry.add({ kind: 'server-error', ...scope });
  }

  /** Any Twilio error answer, e.g. `{status: 400, code: 21611}` for one sender. */
  twilioError(error: { status: number; code: number; message?: string }, scope: FaultScope = {}): string {
    return this.registry.add({ kind: 'twilio-error', ...error, ...scope });
  }

  /**
   * The request is never answered (until stop or reset). By default the
   * message is created first, as when Twilio accepted it and the answer was
   * lost; `after: 'receive'` hangs before anything is created.
   */
  hang(scope: FaultScope & { after?: 'receive' | 'create' } = {}): string {
    return this.registry.add({ kind: 'hang', after: scope.after ?? 'create', ...scope });
  }

  /**
   * The connection is reset without an answer. By default after the message
   * was created: the ambiguous case a sender must reconcile.
   */
  connectionReset(scope: FaultScope & { after?: 'receive' | 'create' } = {}): string {
    return this.registry.add({ kind: 'reset', after: scope.after ?? 'create', ...scope });
  }

  /** How messages to `to` end (delivered, undelivered or failed with an error code). */
  outcome(to: string | RegExp, outcome: { status: FinalStatus; errorCode?: number; probability?: number }): void {
    this.outcomes.add({ to, ...outcome });
  }

  /** Duplicated and out-of-order status callbacks from now on. */
  callbacks(chaos: CallbackChaos): void {
    this.statusCallbacks.setChaos(chaos);
  }

  /** Removes every REST fault and per-number outcome added at run time; callback chaos returns to the options. */
  clear(): void {
    this.registry.clear();
    this.outcomes.clearRuntime();
    this.statusCallbacks.setChaos(this.defaultChaos);
  }
}
