import { ConversationsRestError } from '../conversations/conversations-rest';
import { classifyTwilioError } from '../rest/error-map';
import type { SendFailure } from './delivery';

/**
 * What a failed Twilio call means for the pipeline, from the Twilio error map
 * (src/twilio/error-map.ts). Conversations REST errors carry their status and
 * code as fields; they are classified like Messages API errors.
 */
export function classifySendError(err: unknown): SendFailure {
  const input =
    err instanceof ConversationsRestError
      ? { status: err.status, code: err.twilioCode, message: err.message, cause: err.cause }
      : err;
  const c = classifyTwilioError(input);
  return {
    type: c.type,
    retriable: c.retriable,
    ambiguous: c.ambiguous,
    consent: c.consent === 'opt_out',
    outage: c.outage,
    // Failed (DLQ, replay after a fix) only when Twilio refuses our credentials or the account/resource
    // (20003, 401, 403, 404: TWILIO_AUTH), or for something that is neither Twilio nor the network (a bug).
    // Other rows flagged `configuration` in the error map (21606: the From number is not ours, geographic
    // permissions, …) are permanent answers about this request: rejected, as the error table says.
    configuration: c.type === 'auth' || c.type === 'not_found' || c.type === 'unknown',
    retryAfterMs: c.retryAfterMs,
    twilioErrorCode: c.twilioErrorCode,
    status: c.status,
    message: c.detail ?? c.message,
  };
}

/** The failed-outcome code of a non-retriable failure that is not the request's fault. */
export function failureCode(f: SendFailure): 'TWILIO_AUTH' | 'INTERNAL_ERROR' {
  return f.type === 'unknown' ? 'INTERNAL_ERROR' : 'TWILIO_AUTH';
}
