import { errorCodeLabel } from '../../rest/error-code-label';
import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { NEXT, type Stage } from '../stage';

const STATUS_LABEL = {
  'sms.outbound.accepted': 'accepted',
  'sms.outbound.rejected': 'rejected',
  'sms.outbound.failed': 'failed',
} as const;

/**
 * Always runs, last: publishes the delivery's one outcome (deterministic id,
 * linked to the request) and waits for every write the earlier stages left
 * (ledger, consent), plus the DLQ copy of a failed request. It resolves only
 * when all are on Kafka, so the consumer commits nothing whose outcome could
 * still be lost.
 */
export function outcomeStage(deps: EgressDeps): Stage {
  return {
    name: 'outcome',
    async run(d: Delivery) {
      const decision = d.decision!;
      const event = deps.builder.outcome(d.request, decision.type, decision.data, d.discriminator);
      const writes: Promise<unknown>[] = [deps.publisher.publish(event), ...d.pending];
      if (decision.type === 'sms.outbound.failed') {
        writes.push(
          deps.dlq.writeEvent(
            d.request,
            {
              code: decision.data.code,
              reason: decision.data.reason,
              stage: decision.stage,
              attempts: decision.data.attempts,
              twilioErrorCode: decision.data.twilioErrorCode,
              recipient: d.discriminator === '' ? undefined : d.recipient,
            },
            { topic: d.context.topic, partition: d.context.partition, offset: d.context.offset },
          ),
        );
      }
      await Promise.all(writes);
      d.pending = [];
      deps.metrics?.messagesSent.inc({
        status: STATUS_LABEL[decision.type],
        error_code: errorCodeLabel('twilioErrorCode' in decision.data ? decision.data.twilioErrorCode : undefined),
      });
      return NEXT;
    },
  };
}
