import type { Metrics } from '../../observability';
import { NO_ERROR_CODE, OTHER_ERROR_CODE } from '../../observability/metrics';
import { TWILIO_ERROR_ROWS } from './error-map';

/** The Twilio error codes the error map knows: the only values `error_code` takes besides none/other. */
const KNOWN_CODES: ReadonlySet<string> = new Set(TWILIO_ERROR_ROWS.map((r) => String(r.code)));

/**
 * The `error_code` label of a Twilio error code: the code itself when the
 * error map has a row for it, `other` for any other value (never free text:
 * the label stays bounded by the error map), `none` when there is no code.
 */
export function errorCodeLabel(code: number | string | null | undefined): string {
  if (code === undefined || code === null || code === '') return NO_ERROR_CODE;
  const s = String(code);
  return KNOWN_CODES.has(s) ? s : OTHER_ERROR_CODE;
}

/**
 * Counts one failed Twilio call: `twilio_errors_total{error_type, error_code}`
 * and, when Twilio refused our credentials (error type `auth`: 401/403/20003),
 * `twilio_auth_failures_total{source="twilio_api"}`.
 */
export function recordTwilioError(
  metrics: Metrics | undefined,
  f: { type: string; twilioErrorCode?: number | undefined },
): void {
  if (!metrics) return;
  metrics.errors.inc({ error_type: f.type, error_code: errorCodeLabel(f.twilioErrorCode) });
  if (f.type === 'auth') metrics.authFailures.inc({ source: 'twilio_api' });
}

/**
 * Creates every (error type, known Twilio code) series of `twilio_errors_total`
 * at 0, so `increase()` counts the first error of a kind (an account suspended
 * alert fires on the first 20003/30002, not the second). Bounded: one series
 * per row of the error map.
 */
export function initTwilioErrorSeries(metrics: Metrics | undefined): void {
  if (!metrics) return;
  for (const row of TWILIO_ERROR_ROWS) metrics.errors.inc({ error_type: row.type, error_code: String(row.code) }, 0);
}
