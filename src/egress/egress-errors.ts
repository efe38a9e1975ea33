import { IngressEgressError } from '../errors';

/**
 * Error codes of egress, one prefix, documented in docs/egress.md (a test
 * checks). Only retriable ones are ever thrown out of the handler: the
 * consumer then retries the record without committing it.
 */
export const EGRESS_ERROR_CODES = {
  IE_EGRESS_TWILIO_UNAVAILABLE: {
    retriable: true,
    description:
      'Twilio kept failing (5xx, timeouts, resets) while the circuit was not closed; the record is retried later.',
  },
  IE_EGRESS_RECONCILE_FAILED: {
    retriable: true,
    description: 'After an ambiguous failure Twilio could not be asked whether the message exists; retried later.',
  },
  IE_EGRESS_LEDGER_UNAVAILABLE: {
    retriable: true,
    description: 'The send ledger could not be written or restored; nothing is sent until it can.',
  },
  IE_EGRESS_DLQ_UNAVAILABLE: { retriable: true, description: 'A record could not be written to the DLQ.' },
} as const;

export type EgressErrorCode = keyof typeof EGRESS_ERROR_CODES;

export class EgressError extends IngressEgressError {
  constructor(code: EgressErrorCode, message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(code, message, { cause: options.cause, retriable: EGRESS_ERROR_CODES[code].retriable });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  retryAfterMs: number | undefined;
}

/**
 * Codes of rejected and failed outcomes that egress decides itself (the
 * validation and template codes come from src/sms, Twilio's from the error
 * map). Stable: consumers branch on them.
 */
export const OUTCOME_CODES = {
  OPTED_OUT: 'The recipient opted out of messages from this sender (or the whole account).',
  NO_SENDER: 'Neither the request nor the configuration names a sender (from or messaging service).',
  SCHEDULE_NEEDS_MESSAGING_SERVICE: 'A scheduled send (sendAt) needs a messaging service.',
  UNSUPPORTED_EVENT: 'The egress topic carried an event type egress does not handle.',
  NO_RECIPIENT: 'The request names no recipient (to or recipients).',
  UNKNOWN_REQUEST: 'A cancel named a request id with no sent message in the ledger.',
  CONVERSATION_REPLY_REJECTED: 'The Conversations API refused the reply.',
  DO_NOT_CALL: "The callee is on the account's do-not-call list (consent scope voice).",
  VOICE_CALLER_ID_INVALID: 'The caller id (from) of a call request is not an E.164 number.',
  VOICE_INSTRUCTIONS_INVALID: 'A call request names neither twiml nor routing, or both.',
  VOICE_ROUTING_UNKNOWN: 'A call request names a routing rule the routing file does not have.',
  VOICE_TWIML_INVALID: 'The TwiML of a call request is not one <Response> document within 4,000 characters.',
  UNKNOWN_CALL: 'An end-call request named a request id with no placed call in the ledger.',
  TWILIO_REJECTED: 'Twilio refused the message permanently (see twilioErrorCode).',
  TWILIO_FAILED: 'Twilio kept failing with a retriable error after every attempt.',
  TWILIO_AUTH: 'Twilio refused our credentials or the resource does not exist (a configuration problem).',
  INTERNAL_ERROR: 'An unexpected error (a bug) while handling the request.',
} as const;

export type OutcomeCode = keyof typeof OUTCOME_CODES;
