import type { CircuitPermit } from '../../../resilience';
import { EgressError } from '../../../egress/egress-errors';
import { recordTwilioError } from '../../rest/error-code-label';
import { failureCode } from '../../egress/classify-send-error';
import { callFailed } from '../call-decisions';
import type { CallDelivery } from '../call-delivery';
import { decide, retryFrom, type CallStageName, type CallStageResult } from '../call-pipeline';
import type { VoiceEgressDeps } from '../voice-egress-deps';

/**
 * Listing the callee's calls failed (ledger stage after a restart, place stage
 * after an ambiguous attempt). Feeds the account's circuit (outages only),
 * counts the error, then: a configuration failure fails the request; anything
 * else is retried from `retryStage` while the retry policy allows, and then
 * IE_EGRESS_RECONCILE_FAILED is thrown (the record is retried later): placing
 * the call again without knowing could ring the callee twice.
 */
export function afterCallReconcileFailure(
  deps: VoiceEgressDeps,
  d: CallDelivery,
  permit: CircuitPermit,
  err: unknown,
  stage: CallStageName,
  retryStage: CallStageName,
): CallStageResult {
  const f = deps.classify(err);
  if (f.outage) permit.failure();
  else permit.success();
  recordTwilioError(deps.metrics, f);
  if (f.configuration) return decide(callFailed(d, stage, failureCode(f), f.message, f));
  d.reconcileAttempts = (d.reconcileAttempts ?? 0) + 1;
  if (!deps.retry.shouldRetry(f, d.reconcileAttempts)) {
    throw new EgressError('IE_EGRESS_RECONCILE_FAILED', `could not reconcile a call: ${f.message}`, { cause: err });
  }
  return retryFrom(retryStage, deps.retry.delayMs(d.reconcileAttempts, f));
}
