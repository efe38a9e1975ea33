import { errorCodeLabel } from '../../rest/error-code-label';
import type { CallDelivery } from '../call-delivery';
import { NEXT, type CallStage } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

const OUTCOME_LABEL = {
  'voice.call.accepted': 'accepted',
  'voice.call.rejected': 'rejected',
  'voice.call.failed': 'failed',
} as const;

/**
 * Always runs, last: publishes the request's one outcome (deterministic id,
 * linked to the request), waits for the ledger's `sent` and, for a failed
 * request, its DLQ copy. It resolves only once all are on Kafka, so nothing is
 * committed whose outcome could still be lost.
 */
export function callOutcomeStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'outcome',
    async run(d: CallDelivery) {
      const decision = d.decision!;
      const event = deps.builder.outcome(d.request, decision.type, decision.data);
      const writes: Promise<unknown>[] = [deps.publisher.publish(event), ...d.pending];
      if (decision.type === 'voice.call.failed') {
        writes.push(
          deps.dlq.writeEvent(
            d.request,
            {
              code: decision.data.code,
              reason: decision.data.reason,
              stage: decision.stage,
              attempts: decision.data.attempts,
              twilioErrorCode: decision.data.twilioErrorCode,
            },
            { topic: d.context.topic, partition: d.context.partition, offset: d.context.offset },
          ),
        );
      }
      await Promise.all(writes);
      d.pending = [];
      deps.metrics?.voiceOutboundCalls.inc({
        outcome: OUTCOME_LABEL[decision.type],
        error_code: errorCodeLabel('twilioErrorCode' in decision.data ? decision.data.twilioErrorCode : undefined),
      });
      return NEXT;
    },
  };
}
