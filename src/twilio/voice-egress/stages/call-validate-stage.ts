import { callRejected } from '../call-decisions';
import type { CallDelivery } from '../call-delivery';
import { decide, NEXT, type CallStage } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

/** Callee, caller id and instructions (TwiML or a routing rule): a bad request becomes a rejected outcome. */
export function callValidateStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'validate',
    async run(d: CallDelivery) {
      if (d.call) return NEXT;
      const r = deps.validator.validate(d.request);
      if (!r.ok) return decide(callRejected(d, r.code, r.reason));
      d.call = r.call;
      return NEXT;
    },
  };
}
