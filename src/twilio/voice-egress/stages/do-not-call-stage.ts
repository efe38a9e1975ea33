import { OUTCOME_CODES } from '../../../egress/egress-errors';
import { callRejected } from '../call-decisions';
import type { CallDelivery } from '../call-delivery';
import { decide, NEXT, type CallStage } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

/** Refuses a callee on the account's do-not-call list (consent records with the `voice` scope) before Twilio is called. */
export function doNotCallStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'do-not-call',
    async run(d: CallDelivery) {
      const blocked = deps.doNotCall.isDoNotCall(d.request.tenant.accountSid, d.call!.to);
      return blocked ? decide(callRejected(d, 'DO_NOT_CALL', OUTCOME_CODES.DO_NOT_CALL)) : NEXT;
    },
  };
}
