import { IngressEgressError } from '../../errors';
import type { Logger } from '../../observability';
import { readRetriable, sleep, type Clock } from '../../resilience';
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

export type CallStageResult =
  | { readonly kind: 'next' }
  | { readonly kind: 'decide'; readonly decision: CallDecision }
  | { readonly kind: 'retry'; readonly from: CallStageName; readonly delayMs: number };

export const NEXT: CallStageResult = { kind: 'next' };
export const decide = (decision: CallDecision): CallStageResult => ({ kind: 'decide', decision });
export const retryFrom = (from: CallStageName, delayMs: number): CallStageResult => ({ kind: 'retry', from, delayMs });

export interface CallStage {
  readonly name: CallStageName;
  run(d: CallDelivery): Promise<CallStageResult>;
}

/**
 * Runs one call request through its stages, like the SMS pipeline: a stage
 * that decides ends the walk and the outcome stage always runs; a retriable
 * error (Kafka, the ledger or Twilio unreachable) leaves without an outcome so
 * the consumer retries the record; any other throw is a bug and becomes a
 * failed outcome naming the stage (and a DLQ record).
 */
export class CallPipeline {
  private readonly index = new Map<CallStageName, number>();

  constructor(private readonly o: { stages: CallStage[]; outcome: CallStage; clock: Clock; logger: Logger }) {
    o.stages.forEach((s, i) => this.index.set(s.name, i));
  }

  get stageNames(): CallStageName[] {
    return [...this.o.stages.map((s) => s.name), this.o.outcome.name];
  }

  async run(d: CallDelivery): Promise<CallDecision> {
    let i = 0;
    let current: CallStageName = this.o.stages[0]?.name ?? 'outcome';
    try {
      while (i < this.o.stages.length && d.decision === undefined) {
        const stage = this.o.stages[i]!;
        current = stage.name;
        const r = await stage.run(d);
        if (r.kind === 'next') i++;
        else if (r.kind === 'decide') d.decision = r.decision;
        else {
          const to = this.index.get(r.from);
          if (to === undefined || to > i) throw new IngressEgressError('IE_INTERNAL', `cannot retry from ${r.from}`);
          await sleep(this.o.clock, r.delayMs, d.context.signal);
          i = to;
        }
      }
    } catch (err) {
      d.permit?.release();
      d.permit = undefined;
      if (readRetriable(err) || d.context.signal.aborted) throw err;
      this.o.logger.error({ err, stage: current, requestId: d.request.id }, 'voice egress stage failed unexpectedly');
      d.decision = {
        type: 'voice.call.failed',
        stage: current,
        data: {
          requestId: d.request.id,
          to: d.call?.to ?? d.request.data.to,
          code: 'INTERNAL_ERROR',
          reason: `unexpected error in stage ${current}: ${err instanceof Error ? err.name : 'unknown'}`,
          attempts: d.attempts,
          retriable: false,
        },
      };
    }
    if (d.decision === undefined) throw new IngressEgressError('IE_INTERNAL', 'call stages ended without a decision');
    await this.o.outcome.run(d);
    return d.decision;
  }
}
