import type { OutboundMessage } from './delivery';
import type { SendLedger } from './send-ledger';
import type { TwilioMessage, TwilioMessagesPort } from './twilio-messages-port';

/** Clocks differ between us and Twilio; look this much further back than the attempt. */
export const RECONCILE_SKEW_MS = 60_000;

export interface ReconcileQuery {
  accountSid: string;
  /** The ledger key of the delivery: a message another key already claimed is not ours. */
  ledgerKey: string;
  message: OutboundMessage;
  /** When the first attempt began. */
  attemptAt: number;
}

/**
 * After an ambiguous failure (or an intent found without its `sent` record),
 * asks Twilio whether the message exists: the Messages API has no idempotency
 * key. Two lists of the recipient's messages, newest first: since the attempt
 * by `DateSent>` (what was sent), and the latest page without a date filter
 * (what is still queued or scheduled, which has no date_sent yet). A match is
 * an outbound message created since the attempt, from the same sender, with
 * the same body (or its smart-encoded form), not claimed by another request.
 * Returns the earliest such message, or undefined when none exists.
 */
export async function findSentMessage(
  twilio: TwilioMessagesPort,
  ledger: SendLedger,
  q: ReconcileQuery,
): Promise<TwilioMessage | undefined> {
  const since = q.attemptAt - RECONCILE_SKEW_MS;
  const [recent, sent] = await Promise.all([
    twilio.list({ accountSid: q.accountSid, to: q.message.to, limit: 100 }),
    twilio.list({ accountSid: q.accountSid, to: q.message.to, dateSentAfter: new Date(since), limit: 1000 }),
  ]);
  const seen = new Set<string>();
  let best: TwilioMessage | undefined;
  for (const m of [...recent, ...sent]) {
    if (seen.has(m.sid)) continue;
    seen.add(m.sid);
    if (!isMatch(m, q, since)) continue;
    const claimedBy = ledger.byMessageSid(m.sid);
    if (claimedBy !== undefined && claimedBy.key !== q.ledgerKey) continue;
    if (!best || created(m) < created(best)) best = m;
  }
  return best;
}

function created(m: TwilioMessage): number {
  return m.dateCreated?.getTime() ?? Number.MAX_SAFE_INTEGER;
}

function isMatch(m: TwilioMessage, q: ReconcileQuery, since: number): boolean {
  if (!m.direction.startsWith('outbound')) return false;
  if (m.to !== q.message.to) return false;
  if (m.dateCreated !== null && m.dateCreated.getTime() < since) return false;
  const msg = q.message;
  if (msg.messagingServiceSid !== undefined) {
    if (m.messagingServiceSid !== msg.messagingServiceSid) return false;
  } else if (msg.from !== undefined && m.from !== msg.from) {
    return false;
  }
  return m.body === msg.body || (msg.bodyAsSent !== undefined && m.body === msg.bodyAsSent);
}
