import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { NEXT, type Stage } from '../stage';

/**
 * Takes a permit from the account's circuit breaker. While the circuit is open
 * this waits (the consumer also pauses fetching): a Twilio outage delays
 * requests, it does not fail them.
 */
export function circuitBreakerStage(deps: EgressDeps): Stage {
  return {
    name: 'circuit-breaker',
    leaf: true, // starts no span: its span is not made the active one
    async run(d: Delivery) {
      const breaker = deps.circuits.for(d.request.tenant.accountSid);
      d.permit = breaker.tryAcquire() ?? (await waitForPermit(d, breaker));
      return NEXT;
    },
  };
}

async function waitForPermit(d: Delivery, breaker: ReturnType<EgressDeps['circuits']['for']>) {
  await d.context.heartbeat();
  return breaker.acquire(d.context.signal);
}
