import { sleep } from '../../resilience';
import type { Delivery } from './delivery';
import type { EgressDeps } from './egress-deps';

/** Slack on top of the Twilio timeout before an attempt that was sent is assumed over at Twilio. */
export const IN_FLIGHT_GRACE_MS = 1_000;

/**
 * Milliseconds until this delivery's last call to Twilio must be over: its start + `TWILIO_TIMEOUT_SECS` + grace,
 * the rule the ledger stage applies to another owner's attempt. A timeout or reset ends the wait on our side
 * only: the request was sent, and Twilio may still create the message after that. A reconciliation that lists
 * the recipient's messages before then can miss it, and the resend that follows texts a second time.
 */
export function untilAttemptOver(deps: EgressDeps, d: Delivery): number {
  if (d.lastAttemptAt === undefined) return 0;
  return Math.max(0, d.lastAttemptAt + deps.twilioTimeoutMs + IN_FLIGHT_GRACE_MS - deps.clock.now());
}

/** Waits (heartbeating first, abortable) until the last attempt must be over. */
export async function waitUntilAttemptOver(deps: EgressDeps, d: Delivery): Promise<void> {
  const wait = untilAttemptOver(deps, d);
  if (wait <= 0) return;
  await d.context.heartbeat();
  await sleep(deps.clock, wait, d.context.signal);
}
