import { EgressError } from '../../../egress/egress-errors';
import type { CallDelivery } from '../call-delivery';
import { NEXT, type CallStage } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

/**
 * Records in the send ledger that this request is about to place a call and
 * waits until that is durable: whoever handles the request again (a retry, a
 * restart, another instance after a rebalance) knows the call may exist and
 * lists the callee's calls before placing another.
 */
export function callIntentStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'intent',
    async run(d: CallDelivery) {
      if (d.intentWritten) return NEXT;
      d.attemptAt ??= deps.clock.now();
      try {
        await deps.ledger.recordIntent({
          key: d.ledgerKey,
          requestId: d.request.id,
          recipient: d.request.data.to,
          accountSid: d.request.tenant.accountSid,
          attemptAt: d.attemptAt,
          owner: deps.instanceId,
          attempts: d.attempts,
        });
      } catch (err) {
        throw err instanceof EgressError
          ? err
          : new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the call intent could not be recorded', { cause: err });
      }
      d.intentWritten = true;
      return NEXT;
    },
  };
}
