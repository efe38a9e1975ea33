import { abortError } from '../../../common/clock';
import type { CircuitPermit } from '../../../resilience';
import { EgressError } from '../../../egress/egress-errors';
import { recordTwilioError } from '../../rest/error-code-label';
import { failureCode } from '../../egress/classify-send-error';
import type { SendFailure } from '../../egress/delivery';
import { callAccepted, callFailed, callRejected } from '../call-decisions';
import { addPending, type CallDelivery, type OutboundCall } from '../call-delivery';
import { decide, retryFrom, type CallStage, type CallStageResult } from '../call-pipeline';
import { findPlacedCall } from '../reconcile-call';
import type { VoiceEgressDeps } from '../voice-egress-deps';
import { afterCallReconcileFailure } from './call-reconcile-failure';
import { recordPlaced, untilCallOver, waitUntilCallOver } from './call-ledger-stage';

/**
 * One attempt to place the call (the intent is already durable). After Twilio
 * accepts, `sent` goes to the ledger and the outcome waits for it. After an
 * ambiguous failure (timeout, connection reset) the next attempt first lists
 * the callee's calls. Retriable failures go back to rate-limit after a
 * back-off; when attempts run out while Twilio looks down the record is
 * retried later rather than failed.
 */
export function placeCallStage(deps: VoiceEgressDeps): CallStage {
  return {
    name: 'place',
    async run(d: CallDelivery): Promise<CallStageResult> {
      const c = d.call!;
      const permit = d.permit!;
      d.permit = undefined;
      if (d.context.signal.aborted) {
        permit.release();
        throw abortError(d.context.signal);
      }
      if (d.ambiguous) {
        const r = await reconcileBeforeRetry(deps, d, c, permit);
        if (r) return r;
      }
      d.attempts++;
      const started = deps.clock.now();
      deps.openAttempts.started(d.ledgerKey, started);
      try {
        const placed = await deps.calls.create({
          accountSid: d.request.tenant.accountSid,
          to: c.to,
          from: c.from,
          twiml: c.twiml,
          record: c.record || undefined,
          recordingStatusCallback: c.recordingStatusCallback,
          machineDetection: c.machineDetection,
          statusCallback: c.statusCallback,
          statusCallbackEvents: c.statusCallbackEvents,
          timeoutSecs: c.timeoutSecs,
          timeLimitSecs: c.timeLimitSecs,
        });
        deps.openAttempts.answered(d.ledgerKey);
        deps.metrics?.voicePlaceLatency.observe((deps.clock.now() - started) / 1000);
        permit.success();
        addPending(d, recordPlaced(deps, d, placed.sid, placed.status));
        return decide(callAccepted(d, { callSid: placed.sid, status: placed.status }, false));
      } catch (err) {
        deps.metrics?.voicePlaceLatency.observe((deps.clock.now() - started) / 1000);
        const f = deps.classify(err);
        if (f.outage) permit.failure();
        else permit.success();
        recordTwilioError(deps.metrics, f);
        d.lastFailure = f;
        if (f.ambiguous) d.ambiguous = true;
        else deps.openAttempts.answered(d.ledgerKey);
        return afterFailure(deps, d, c, f, err);
      }
    },
  };
}

/**
 * Lists the callee's calls after an ambiguous attempt; a result ends the stage, undefined means "not placed: place"
 * (with `permit`, the placement's, when the caller holds one). The list goes under a read permit of its own: it
 * never closes the circuit nor takes the half-open probe slot; when no placement follows, `permit` is released.
 */
async function reconcileBeforeRetry(
  deps: VoiceEgressDeps,
  d: CallDelivery,
  c: OutboundCall,
  permit?: CircuitPermit,
): Promise<CallStageResult | undefined> {
  const read = await deps.circuits.for(d.request.tenant.accountSid).acquireRead(d.context.signal);
  try {
    const found = await findPlacedCall(deps.calls, deps.ledger, {
      accountSid: d.request.tenant.accountSid,
      ledgerKey: d.ledgerKey,
      to: c.to,
      from: c.from,
      attemptAt: d.attemptAt ?? deps.clock.now(),
    });
    read.success();
    d.ambiguous = false;
    if (!found) return undefined;
    permit?.release();
    addPending(d, recordPlaced(deps, d, found.sid, found.status));
    return decide(callAccepted(d, { callSid: found.sid, status: found.status }, true));
  } catch (err) {
    permit?.release();
    return afterCallReconcileFailure(deps, d, read, err, 'place', 'rate-limit');
  }
}

async function afterFailure(
  deps: VoiceEgressDeps,
  d: CallDelivery,
  c: OutboundCall,
  f: SendFailure,
  cause: unknown,
): Promise<CallStageResult> {
  if (f.configuration) return decide(callFailed(d, 'place', failureCode(f), f.message, f));
  if (!f.retriable) return decide(callRejected(d, 'TWILIO_REJECTED', f.message, f.twilioErrorCode));
  if (deps.retry.shouldRetry(f, d.attempts)) {
    // After an ambiguous failure the next attempt lists the callee's calls first: not before this one must be over.
    const backOff = deps.retry.delayMs(d.attempts, f);
    return retryFrom('rate-limit', d.ambiguous ? Math.max(backOff, untilCallOver(deps, d)) : backOff);
  }
  const breaker = deps.circuits.for(d.request.tenant.accountSid);
  if (breaker.state !== 'closed') {
    // The record is retried from the start, whose ledger stage waits out this process's open placement too.
    throw new EgressError('IE_EGRESS_TWILIO_UNAVAILABLE', `Twilio unavailable after ${d.attempts} call attempts`, {
      cause,
      retryAfterMs: f.retryAfterMs,
    });
  }
  if (d.ambiguous) {
    // The last attempt may have placed the call: never fail (and later replay) one that rang.
    await waitUntilCallOver(deps, d);
    const r = await reconcileBeforeRetry(deps, d, c);
    if (r) return r;
  }
  return decide(callFailed(d, 'place', 'TWILIO_FAILED', f.message, f));
}
