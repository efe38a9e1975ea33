import { msUntilOver, waitUntilOver } from '../../egress/attempt-over';
import { callAccepted } from '../call-decisions';
import { addPending, type CallDelivery } from '../call-delivery';
import { decide, NEXT, type CallStage } from '../call-pipeline';
import { findPlacedCall } from '../reconcile-call';
import type { VoiceEgressDeps } from '../voice-egress-deps';
import { afterCallReconcileFailure } from './call-reconcile-failure';
import { unknownSince } from '../../egress/send-ledger';

/**
 * First stage: was this request handled before? A `sent` entry (the call was
 * placed) ends here as accepted, deduplicated, without calling Twilio: a
 * redelivered or replayed request never rings anyone twice. An `intent`
 * without `sent` means an earlier attempt may have placed the call: wait until
 * that attempt must be over, then list the callee's calls before anything
 * else (a do-not-call entry added since must not turn a placed call into a
 * rejection). No entry proves the request new only when it is younger than
 * what the ledger may have forgotten; an older one is listed the same way.
 */
export function callLedgerStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'ledger',
    async run(d: CallDelivery) {
      const entry = deps.ledger.get(d.ledgerKey);
      if (!entry) {
        const askFrom = unknownSince(deps.ledger, d.request.ingestedAt, d.context.timestamp);
        if (askFrom === undefined) return NEXT;
        // Its entry may be among the forgotten ones: list the callee's calls from the request's time on.
        deps.metrics?.ledgerForgottenChecks.inc({ channel: 'voice' });
        d.attemptAt = askFrom;
        return reconcile(
          deps,
          d,
          d.attemptAt,
          () => Promise.resolve(),
          'a request older than the send ledger remembers',
        );
      }
      if (entry.state === 'sent' && entry.messageSid !== undefined) {
        return decide(
          callAccepted(
            d,
            { callSid: entry.messageSid, status: entry.status ?? 'queued', attempts: entry.attempts },
            true,
          ),
        );
      }
      const attemptAt = Math.min(d.attemptAt ?? entry.attemptAt, entry.attemptAt);
      d.attemptAt = attemptAt;
      d.attempts = Math.max(d.attempts, entry.attempts ?? 0);
      // Another process's attempt is waited out from its intent; this process's own (a redelivery after an aborted
      // delivery) from the start of its last unanswered placement, which only this process knows.
      const waitOut = () =>
        entry.owner !== deps.instanceId ? waitUntilOver(deps, d.context, entry.updatedAt) : waitUntilCallOver(deps, d);
      return reconcile(deps, d, attemptAt, waitOut, 'an unfinished call');
    },
  };
}

/**
 * Lists the callee's calls placed since `attemptAt` once `waitOut` resolves (an earlier placement must be over): a
 * found call ends the delivery as accepted (and is recorded as placed), none lets the next stages place it.
 */
async function reconcile(
  deps: VoiceEgressDeps,
  d: CallDelivery,
  attemptAt: number,
  waitOut: () => Promise<void>,
  what: string,
) {
  const validation = deps.validator.validate(d.request);
  // No longer valid (configuration changed): it was never placeable as it is now; validate rejects it.
  if (!validation.ok) return NEXT;
  d.call = validation.call;
  await waitOut();
  // A read: it waits while the circuit is open, but its success never closes the circuit (only a create does).
  const permit = await deps.circuits.for(d.request.tenant.accountSid).acquireRead(d.context.signal);
  try {
    const found = await findPlacedCall(deps.calls, deps.ledger, {
      accountSid: d.request.tenant.accountSid,
      ledgerKey: d.ledgerKey,
      to: validation.call.to,
      from: validation.call.from,
      attemptAt,
    });
    permit.success();
    d.reconcileAttempts = 0;
    if (!found) {
      deps.logger.info({ requestId: d.request.id }, `reconciled ${what}: not placed, placing`);
      return NEXT;
    }
    deps.logger.info({ requestId: d.request.id, callSid: found.sid }, `reconciled ${what}: placed`);
    d.intentWritten = true;
    addPending(d, recordPlaced(deps, d, found.sid, found.status));
    return decide(callAccepted(d, { callSid: found.sid, status: found.status }, true));
  } catch (err) {
    return afterCallReconcileFailure(deps, d, permit, err, 'ledger', 'ledger');
  }
}

/**
 * Milliseconds until this process's last unanswered placement for the delivery must be over: its start +
 * `TWILIO_TIMEOUT_SECS` + grace (src/twilio/egress/attempt-over.ts, the SMS rule). A timeout or reset ends the wait on
 * our side only; Twilio may still place the call, and a list of the callee's calls before then can miss it.
 */
export function untilCallOver(deps: VoiceEgressDeps, d: CallDelivery): number {
  return msUntilOver(deps, deps.openAttempts.lastStart(d.ledgerKey, deps.clock.now()));
}

/** Waits (heartbeating first, abortable) until the last unanswered placement must be over. */
export function waitUntilCallOver(deps: VoiceEgressDeps, d: CallDelivery): Promise<void> {
  return waitUntilOver(deps, d.context, deps.openAttempts.lastStart(d.ledgerKey, deps.clock.now()));
}

/** The ledger's `sent` record of a placed call (the CallSid in the entry's SID field). */
export function recordPlaced(deps: VoiceEgressDeps, d: CallDelivery, callSid: string, status: string): Promise<void> {
  return deps.ledger.recordSent({
    key: d.ledgerKey,
    requestId: d.request.id,
    recipient: d.request.data.to,
    accountSid: d.request.tenant.accountSid,
    attemptAt: d.attemptAt ?? deps.clock.now(),
    owner: deps.instanceId,
    messageSid: callSid,
    status,
    attempts: Math.max(1, d.attempts),
  });
}
