import { RECONCILE_SKEW_MS } from '../egress/reconcile';
import type { SendLedger } from '../egress/send-ledger';
import type { TwilioCall, TwilioCallsPort } from './twilio-calls-port';

export interface CallReconcileQuery {
  accountSid: string;
  /** The ledger key of the request: a call another key already claimed is not ours. */
  ledgerKey: string;
  to: string;
  from: string;
  /** When the first attempt began. */
  attemptAt: number;
}

/**
 * After an ambiguous attempt (or an intent found without its `sent` record),
 * asks Twilio whether the call exists: the Calls API has no idempotency key.
 * Two lists of calls from our caller id to the callee, newest first: since
 * the attempt by `StartTime>=` (what was dialled), and the latest page
 * without a date filter (what is still queued, which has no start time). A
 * match is an outbound call created since the attempt, not claimed by another
 * request in the ledger. Requests to one callee share a partition key, so
 * they are handled one after another and each claims its own call. Returns
 * the earliest match, or undefined when none exists.
 */
export async function findPlacedCall(
  calls: TwilioCallsPort,
  ledger: SendLedger,
  q: CallReconcileQuery,
): Promise<TwilioCall | undefined> {
  const since = q.attemptAt - RECONCILE_SKEW_MS;
  const [recent, started] = await Promise.all([
    calls.list({ accountSid: q.accountSid, to: q.to, from: q.from, limit: 100 }),
    calls.list({ accountSid: q.accountSid, to: q.to, from: q.from, startTimeAfter: new Date(since), limit: 1000 }),
  ]);
  const seen = new Set<string>();
  let best: TwilioCall | undefined;
  for (const c of [...recent, ...started]) {
    if (seen.has(c.sid)) continue;
    seen.add(c.sid);
    if (!c.direction.startsWith('outbound') || c.to !== q.to || c.from !== q.from) continue;
    if (c.dateCreated !== null && c.dateCreated.getTime() < since) continue;
    const claimedBy = ledger.byMessageSid(c.sid);
    if (claimedBy !== undefined && claimedBy.key !== q.ledgerKey) continue;
    if (!best || created(c) < created(best)) best = c;
  }
  return best;
}

function created(c: TwilioCall): number {
  return c.dateCreated?.getTime() ?? Number.MAX_SAFE_INTEGER;
}
