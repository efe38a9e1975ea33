import type { Decision, Delivery } from './delivery';

/** The stages of one delivery, in their fixed order (docs/egress.md). */
export const STAGE_NAMES = [
  'ledger',
  'validate',
  'consent',
  'intent',
  'rate-limit',
  'circuit-breaker',
  'send',
  'outcome',
] as const;
export type StageName = (typeof STAGE_NAMES)[number] | 'decode';

/**
 * What a stage tells the runner: go on, stop with a decision (the outcome
 * stage publishes it), or go back to an earlier stage after a delay (a retry
 * goes back to rate-limit so every attempt takes a token and a permit).
 */
export type StageResult =
  | { readonly kind: 'next' }
  | { readonly kind: 'decide'; readonly decision: Decision }
  | { readonly kind: 'retry'; readonly from: StageName; readonly delayMs: number };

export const NEXT: StageResult = { kind: 'next' };
export const decide = (decision: Decision): StageResult => ({ kind: 'decide', decision });
export const retryFrom = (from: StageName, delayMs: number): StageResult => ({ kind: 'retry', from, delayMs });

export interface Stage {
  readonly name: StageName;
  run(d: Delivery): Promise<StageResult>;
}
