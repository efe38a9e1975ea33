import { StageRunner, type RunnerStage, type StageResult } from '../../egress';
import type { Logger } from '../../observability';
import type { Clock } from '../../resilience';
import type { CallDecision, CallDelivery } from './call-delivery';

/** The stages of one call request, in their fixed order (docs/voice.md). */
export const CALL_STAGE_NAMES = [
  'ledger',
  'validate',
  'do-not-call',
  'intent',
  'rate-limit',
  'circuit-breaker',
  'place',
  'outcome',
] as const;
export type CallStageName = (typeof CALL_STAGE_NAMES)[number];

export type CallStageResult = StageResult<CallStageName, CallDecision>;

export const NEXT: CallStageResult = { kind: 'next' };
export const decide = (decision: CallDecision): CallStageResult => ({ kind: 'decide', decision });
export const retryFrom = (from: CallStageName, delayMs: number): CallStageResult => ({ kind: 'retry', from, delayMs });

export type CallStage = RunnerStage<CallStageName, CallDelivery, CallDecision>;

/**
 * Runs one call request through its stages, like the SMS pipeline: a stage
 * that decides ends the walk and the outcome stage always runs; a retriable
 * error (Kafka, the ledger or Twilio unreachable) leaves without an outcome so
 * the consumer retries the record; any other throw is a bug and becomes a
 * failed outcome naming the stage (and a DLQ record).
 */
export class CallPipeline extends StageRunner<CallStageName, CallDelivery, CallDecision> {
  constructor(o: { stages: CallStage[]; outcome: CallStage; clock: Clock; logger: Logger }) {
    super({
      ...o,
      label: 'voice egress',
      failed: (d, stage, reason) => ({
        type: 'voice.call.failed',
        stage,
        data: {
          requestId: d.request.id,
          to: d.call?.to ?? d.request.data.to,
          code: 'INTERNAL_ERROR',
          reason,
          attempts: d.attempts,
          retriable: false,
        },
      }),
    });
  }
}
