import type { CallDelivery } from '../call-delivery';
import { NEXT, type CallStage } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

/** Waits for a calls-per-second token of the account (TWILIO_VOICE_CPS), never one of the message limiter. */
export function callRateLimitStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'rate-limit',
    async run(d: CallDelivery) {
      const c = d.call!;
      await deps.limiter.acquire(
        { accountSid: d.request.tenant.accountSid, sender: c.from, recipient: c.to },
        d.context.signal,
      );
      return NEXT;
    },
  };
}
