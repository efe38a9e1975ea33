import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { EgressError } from '../../../egress/egress-errors';
import { NEXT, type Stage } from '../stage';

/**
 * Records in the send ledger that this (request, recipient) is about to be
 * sent, and waits until that is durable. From here on, whoever handles the
 * request again (a retry, a restart, another instance) knows the message may
 * exist and reconciles before sending. It runs before rate-limit, so no
 * Kafka round trip sits between taking a token and calling Twilio: what the
 * rate limiter lets through reaches Twilio at that rate.
 */
export function intentStage(deps: EgressDeps): Stage {
  return {
    name: 'intent',
    async run(d: Delivery) {
      if (d.intentWritten) return NEXT;
      d.attemptAt ??= deps.clock.now();
      try {
        await deps.ledger.recordIntent({
          key: d.ledgerKey,
          requestId: d.request.id,
          recipient: d.recipient,
          accountSid: d.request.tenant.accountSid,
          attemptAt: d.attemptAt,
          owner: deps.instanceId,
          attempts: d.attempts,
        });
      } catch (err) {
        throw err instanceof EgressError
          ? err
          : new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the send intent could not be recorded', { cause: err });
      }
      d.intentWritten = true;
      return NEXT;
    },
  };
}
