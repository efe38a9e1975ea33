import type { CallDelivery } from '../call-delivery';
import { NEXT, type CallStage } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

/** Takes a permit from the account's circuit breaker (the one SMS uses); while it is open, calls wait. */
export function callCircuitStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'circuit-breaker',
    async run(d: CallDelivery) {
      const breaker = deps.circuits.for(d.request.tenant.accountSid);
      let permit = breaker.tryAcquire();
      if (!permit) {
        await d.context.heartbeat();
        permit = await breaker.acquire(d.context.signal);
      }
      d.permit = permit;
      return NEXT;
    },
  };
}
