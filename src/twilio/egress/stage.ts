import type { RunnerStage, StageResult as RunnerStageResult } from '../../egress';
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

/** What a stage tells the runner (go on, decide, or retry from an earlier stage): see StageRunner. */
export type StageResult = RunnerStageResult<StageName, Decision>;

export const NEXT: StageResult = { kind: 'next' };
export const decide = (decision: Decision): StageResult => ({ kind: 'decide', decision });
export const retryFrom = (from: StageName, delayMs: number): StageResult => ({ kind: 'retry', from, delayMs });

export type Stage = RunnerStage<StageName, Delivery, Decision>;
