import { ConversationsRestError } from '../twilio/conversations/conversations-rest';
import { classifyTwilioError } from '../twilio/error-map';
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
    // Something that is neither Twilio nor the network (a bug) fails to the DLQ rather than being called a rejection.
    configuration: c.configuration || c.type === 'unknown',
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
