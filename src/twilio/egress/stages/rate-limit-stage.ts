import { priorityOf } from '../../../envelope';
import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { NEXT, type Stage } from '../stage';

/**
 * Waits for a token of the account, the sender and the recipient. Never drops: the wait is the backpressure.
 * The request's priority decides its place in the queues: urgent first, bulk held to its share of the account rate.
 */
export function rateLimitStage(deps: EgressDeps): Stage {
  return {
    name: 'rate-limit',
    leaf: true, // starts no span: its span is not made the active one
    async run(d: Delivery) {
      const m = d.message!;
      await deps.limiter.acquire(
        {
          accountSid: d.request.tenant.accountSid,
          sender: m.messagingServiceSid ?? m.from,
          recipient: m.conversationSid ?? m.to,
        },
        d.context.signal,
        priorityOf(d.request.data),
      );
      return NEXT;
    },
  };
}
