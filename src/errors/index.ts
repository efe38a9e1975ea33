/**
 * One error base for the whole service. Every error carries a stable `code`
 * (listed in ERROR_CODES and documented in docs/errors.md) and a `retriable`
 * flag; retry logic reads only that flag and never retries programmer errors.
 */
export const ERROR_CODES = {
  IE_CONFIG_INVALID: { retriable: false, description: 'The environment failed validation at start-up.' },
  IE_ENVELOPE_INVALID: { retriable: false, description: 'An envelope failed its zod schema; it was not published.' },
  IE_ENVELOPE_DECODE: { retriable: false, description: 'A Kafka record could not be decoded into an envelope.' },
  IE_KAFKA_UNAVAILABLE: {
    retriable: true,
    description: 'The Kafka cluster could not be reached or did not acknowledge.',
  },
  IE_KAFKA_REJECTED: {
    retriable: false,
    description: 'Kafka refused a request in a way retrying cannot fix (authorization, record too large, …).',
  },
  IE_KAFKA_TOPIC_MISSING: {
    retriable: false,
    description: 'A topic the service uses does not exist and KAFKA_CREATE_TOPICS is off.',
  },
  IE_KAFKA_NOT_CONNECTED: {
    retriable: true,
    description: 'The publisher is not connected (starting, stopping or stopped).',
  },
  IE_SCHEMA_REGISTRY: { retriable: true, description: 'The Schema Registry rejected or failed a request.' },
  IE_TWILIO_CONVERSATIONS: {
    retriable: false,
    description: 'A Twilio Conversations REST call failed (the retriable flag is set per failure).',
  },
  IE_LIFECYCLE: {
    retriable: false,
    description: 'A component was used in a state that does not allow it (e.g. after stop).',
  },
  IE_CONNECTOR: { retriable: false, description: 'A connector failed to register, start or stop.' },
  IE_INTERNAL: { retriable: false, description: 'An unexpected internal error (a bug).' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  details?: Record<string, unknown>;
}

export class IngressEgressError extends Error {
  readonly code: ErrorCode | string;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode | string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? (code in ERROR_CODES ? ERROR_CODES[code as ErrorCode].retriable : false);
    this.details = options.details;
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof IngressEgressError && err.retriable;
}
