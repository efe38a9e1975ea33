import type { CircuitPermit } from '../../../resilience';
import { recordTwilioError } from '../../rest/error-code-label';
import { failureCode } from '../classify-send-error';
import { failed } from '../decisions';
import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { EgressError } from '../../../egress/egress-errors';
import { decide, retryFrom, type StageName, type StageResult } from '../stage';

/**
 * A reconciliation query to Twilio failed (ledger stage after a restart, send
 * stage after an ambiguous attempt). Feeds the account's circuit (only an
 * outage counts against it), counts the error, then: a configuration failure
 * fails the delivery at `stage`; otherwise it is retried from `retryStage`
 * while the retry policy allows, and after that IE_EGRESS_RECONCILE_FAILED is
 * thrown, which the pipeline turns into a DLQ record (sending again without
 * knowing could send the SMS twice).
 */
export function afterReconcileFailure(
  deps: EgressDeps,
  d: Delivery,
  permit: CircuitPermit,
  err: unknown,
  stage: StageName,
  retryStage: StageName,
): StageResult {
  const f = deps.classify(err);
  if (f.outage) permit.failure();
  else permit.success();
  recordTwilioError(deps.metrics, f);
  if (f.configuration) return decide(failed(d, stage, failureCode(f), f.message, f));
  d.reconcileAttempts = (d.reconcileAttempts ?? 0) + 1;
  if (!deps.retry.shouldRetry(f, d.reconcileAttempts)) {
    throw new EgressError('IE_EGRESS_RECONCILE_FAILED', `could not reconcile: ${f.message}`, { cause: err });
  }
  return retryFrom(retryStage, deps.retry.delayMs(d.reconcileAttempts, f));
}
