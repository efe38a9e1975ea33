import { rejected } from '../decisions';
import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { OUTCOME_CODES } from '../../../egress/egress-errors';
import { decide, NEXT, type Stage } from '../stage';

/**
 * Refuses a recipient who opted out of this sender (number or messaging
 * service) or of the whole account, before Twilio is called. Replies into a
 * Conversation have no single recipient number; Twilio applies the
 * participants' opt-outs there.
 */
export function consentStage(deps: EgressDeps): Stage {
  return {
    name: 'consent',
    leaf: true, // starts no span: its span is not made the active one
    async run(d: Delivery) {
      const m = d.message!;
      if (m.conversationSid !== undefined) return NEXT;
      const optedOut = deps.consent.isOptedOut({
        accountSid: d.request.tenant.accountSid,
        phoneNumber: m.to,
        from: m.from,
        messagingServiceSid: m.messagingServiceSid,
      });
      return optedOut ? decide(rejected(d, 'OPTED_OUT', OUTCOME_CODES.OPTED_OUT)) : NEXT;
    },
  };
}
