import { acceptedFromLedger, acceptedFromTwilio } from '../decisions';
import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { findSentMessage } from '../reconcile';
import { decide, NEXT, type Stage } from '../stage';
import { afterReconcileFailure } from './reconcile-failure';
import { waitUntilOver } from '../attempt-over';
import { unknownSince } from '../send-ledger';
import { recordSent } from './record-sent';

export { IN_FLIGHT_GRACE_MS } from '../attempt-over';

/**
 * First stage: has this (request, recipient) been handled before? A `sent`
 * entry ends here as accepted (deduplicated) without calling Twilio: a
 * redelivered, replayed or republished request never texts twice. An
 * `intent` without `sent` means an earlier attempt may have created the
 * message: wait until that attempt must be over, then reconcile against
 * Twilio before anything else (a STOP received since must not turn a message
 * that went out into a rejection). No entry at all proves the request new
 * only when it is younger than what the ledger may have forgotten (its
 * memory is bounded); an older one is reconciled the same way first.
 */
export function ledgerStage(deps: EgressDeps): Stage {
  return {
    name: 'ledger',
    async run(d: Delivery) {
      // The recipient's key, then the keys of its spellings (entries written before recipients were normalised).
      const entries = [d.ledgerKey, ...d.writtenKeys].flatMap((k) => deps.ledger.get(k) ?? []);
      const entry = entries[0];
      if (!entry) {
        const askFrom = unknownSince(deps.ledger, d.request.ingestedAt, d.context.timestamp);
        if (askFrom === undefined) return NEXT;
        // Its entry may be among the forgotten ones: ask Twilio from the request's time on.
        deps.metrics?.ledgerForgottenChecks.inc({ channel: 'sms' });
        d.attemptAt = askFrom;
        return reconcile(deps, d, d.attemptAt, undefined, 'a request older than the send ledger remembers');
      }
      for (const e of entries) {
        if (e.state === 'sent' && e.messageSid !== undefined) {
          return decide(acceptedFromLedger(d, { ...e, messageSid: e.messageSid }));
        }
      }
      d.recovered = entry;
      const attemptAt = Math.min(d.attemptAt ?? entry.attemptAt, ...entries.map((e) => e.attemptAt));
      d.attemptAt = attemptAt;
      d.attempts = Math.max(d.attempts, ...entries.map((e) => e.attempts ?? 0));
      // Another process's attempt is waited out from its intent; this process's own (a redelivery after an aborted
      // delivery) from the start of its last unanswered call, which only this process knows. Every intent found
      // is waited out: the latest bound counts.
      const now = deps.clock.now();
      let since: number | undefined;
      for (const e of entries) {
        const s = e.owner !== deps.instanceId ? e.updatedAt : deps.openAttempts.lastStart(d.ledgerKey, now);
        if (s !== undefined && (since === undefined || s > since)) since = s;
      }
      return reconcile(deps, d, attemptAt, since, 'an unfinished send');
    },
  };
}

/**
 * Asks Twilio whether the message exists (created since `attemptAt`), once an attempt that began at `since` must be
 * over: a found message ends the delivery as accepted (and is recorded as sent), none lets the next stages send.
 */
async function reconcile(deps: EgressDeps, d: Delivery, attemptAt: number, since: number | undefined, what: string) {
  const validation = deps.validator.validate(d.request, d.recipient);
  // The request no longer validates (configuration changed): it was never sendable as it is now; validate rejects it.
  if (!validation.ok) return NEXT;
  d.message = validation.message;
  await waitUntilOver(deps, d.context, since);
  // A read: it waits while the circuit is open, but its success never closes the circuit (only a create does).
  const breaker = deps.circuits.for(d.request.tenant.accountSid);
  const permit = await breaker.acquireRead(d.context.signal);
  try {
    const found = await findSentMessage(deps.twilio, deps.ledger, {
      accountSid: d.request.tenant.accountSid,
      ledgerKey: d.ledgerKey,
      message: validation.message,
      attemptAt,
    });
    permit.success();
    d.reconcileAttempts = 0;
    if (!found) {
      deps.logger.info({ requestId: d.request.id }, `reconciled ${what}: not sent, sending`);
      return NEXT;
    }
    deps.logger.info({ requestId: d.request.id, messageSid: found.sid }, `reconciled ${what}: sent`);
    recordSent(deps, d, validation.message, found);
    return decide(acceptedFromTwilio(d, found, true));
  } catch (err) {
    return afterReconcileFailure(deps, d, permit, err, 'ledger', 'ledger');
  }
}
