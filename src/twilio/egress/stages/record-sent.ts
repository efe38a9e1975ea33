import { addPending, type Delivery, type OutboundMessage } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import type { TwilioMessage } from '../twilio-messages-port';

/**
 * Writes `sent` for a message Twilio has (created by this attempt, or found by a reconciliation) and counts its
 * segments; the outcome waits for the write. The send stage and the ledger stage both end a delivery this way.
 */
export function recordSent(deps: EgressDeps, d: Delivery, m: OutboundMessage, sent: TwilioMessage): void {
  const segments = sent.numSegments > 0 ? sent.numSegments : m.segments;
  deps.metrics?.messageSegments.observe({ encoding: m.encoding }, segments);
  addPending(
    d,
    deps.ledger.recordSent({
      key: d.ledgerKey,
      requestId: d.request.id,
      recipient: d.recipient,
      accountSid: d.request.tenant.accountSid,
      attemptAt: d.attemptAt ?? deps.clock.now(),
      owner: deps.instanceId,
      messageSid: sent.sid,
      status: sent.status,
      numSegments: segments,
      encoding: m.encoding,
      attempts: Math.max(1, d.attempts),
    }),
  );
}
