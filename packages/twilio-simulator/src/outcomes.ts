import type { SeededRng } from './rng';

/**
 * Where an accepted message ends: delivered, or undelivered/failed with an
 * error code. Rules are tried in order; the first whose recipient matches and
 * whose probability draw succeeds decides. Per-number rules added at run time
 * (faults) go before the configured ones.
 */
export type FinalStatus = 'delivered' | 'undelivered' | 'failed';

export interface OutcomeRule {
  /** Exact recipient, or a regular expression source (e.g. `^\\+4420`), or a RegExp. */
  to?: string | RegExp;
  /** Chance this rule applies (default 1). */
  probability?: number;
  status: FinalStatus;
  /** Twilio error code for undelivered/failed (default 30003 undelivered, 30008 failed). */
  errorCode?: number;
}

export interface Outcome {
  status: FinalStatus;
  errorCode: number | null;
}

const DELIVERED: Outcome = { status: 'delivered', errorCode: null };

function matchesTo(rule: OutcomeRule, to: string): boolean {
  if (rule.to === undefined) return true;
  if (rule.to instanceof RegExp) return rule.to.test(to);
  if (rule.to.startsWith('^') || rule.to.endsWith('$')) return new RegExp(rule.to).test(to);
  return rule.to === to;
}

export class OutcomeRules {
  private runtime: OutcomeRule[] = [];

  constructor(
    private readonly configured: readonly OutcomeRule[],
    private readonly rng: SeededRng,
  ) {}

  /** Adds a rule ahead of the configured ones (latest added wins). */
  add(rule: OutcomeRule): void {
    this.runtime.unshift(rule);
  }

  clearRuntime(): void {
    this.runtime = [];
  }

  decide(to: string): Outcome {
    for (const rule of this.runtime.length === 0 ? this.configured : [...this.runtime, ...this.configured]) {
      if (!matchesTo(rule, to)) continue;
      if (rule.probability !== undefined && !this.rng.chance(rule.probability)) continue;
      if (rule.status === 'delivered') return DELIVERED;
      return { status: rule.status, errorCode: rule.errorCode ?? (rule.status === 'failed' ? 30008 : 30003) };
    }
    return DELIVERED;
  }
}
