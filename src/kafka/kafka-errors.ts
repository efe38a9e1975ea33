import { IngressEgressError } from '../errors';

/**
 * kafkajs errors → ours, as data (docs/contributing.md). `inherit` keeps kafkajs's own
 * retriable flag (protocol errors carry it per Kafka error code). Anything
 * else that is not a kafkajs error is a bug (IE_INTERNAL).
 */
const KAFKAJS_ERRORS: readonly { name: string; retriable: boolean | 'inherit' }[] = [
  { name: 'KafkaJSConnectionError', retriable: true },
  { name: 'KafkaJSConnectionClosedError', retriable: true },
  { name: 'KafkaJSRequestTimeoutError', retriable: true },
  // Raised when retries of a retriable error ran out: the cluster is still unhealthy.
  { name: 'KafkaJSNumberOfRetriesExceeded', retriable: true },
  { name: 'KafkaJSBrokerNotFound', retriable: true },
  { name: 'KafkaJSNoBrokerAvailableError', retriable: true },
  { name: 'KafkaJSMetadataNotLoaded', retriable: true },
  { name: 'KafkaJSTopicMetadataNotLoaded', retriable: true },
  { name: 'KafkaJSTimeout', retriable: true },
  { name: 'KafkaJSLockTimeout', retriable: true },
  { name: 'KafkaJSSASLAuthenticationError', retriable: false },
  { name: 'KafkaJSServerDoesNotSupportApiKey', retriable: false },
  { name: 'KafkaJSProtocolError', retriable: 'inherit' },
  { name: 'KafkaJSNonRetriableError', retriable: false },
  { name: 'KafkaJSError', retriable: 'inherit' },
];

const BY_NAME = new Map(KAFKAJS_ERRORS.map((row) => [row.name, row]));

// kafkajs's retrier wraps the error that ended it (retries exhausted, or a
// nested retrier giving up) in these, with the original as `cause`.
const WRAPPERS = new Set(['KafkaJSNonRetriableError', 'KafkaJSNumberOfRetriesExceeded']);

/** The error that actually happened, under kafkajs's retry wrappers. */
function rootCause(err: Error): Error {
  let e = err;
  for (let depth = 0; depth < 10 && WRAPPERS.has(e.name); depth++) {
    const cause = (e as { cause?: unknown }).cause;
    if (!(cause instanceof Error) || !BY_NAME.has(cause.name) || cause === e) break;
    e = cause;
  }
  return e;
}

/**
 * Wraps a kafkajs failure, judged by its root cause: a connection error that
 * outlived its retries is still an outage. Retriable ones (the cluster is unreachable or busy)
 * become IE_KAFKA_UNAVAILABLE; non-retriable ones (authorization, record too
 * large, …) become IE_KAFKA_REJECTED. Both name the Kafka error type in `details`.
 */
export function toKafkaError(err: unknown, action: string): IngressEgressError {
  if (err instanceof IngressEgressError) return err;
  const outer = err instanceof Error ? err : new Error(String(err));
  const e = rootCause(outer);
  const row = BY_NAME.get(e.name);
  if (!row) {
    return new IngressEgressError('IE_INTERNAL', `${action}: ${outer.message}`, { cause: err });
  }
  const own = (e as { retriable?: unknown }).retriable;
  const retriable = row.retriable === 'inherit' ? own !== false : row.retriable;
  const type = (e as { type?: unknown }).type;
  return new IngressEgressError(
    retriable ? 'IE_KAFKA_UNAVAILABLE' : 'IE_KAFKA_REJECTED',
    `${action}: ${outer.message}`,
    {
      cause: err,
      retriable,
      details: { kafkaError: e.name, ...(typeof type === 'string' ? { kafkaErrorType: type } : {}) },
    },
  );
}

/**
 * A heartbeat or commit failed because the coordinator's node left the cluster metadata (killed while other
 * brokers serve): a fresh coordinator lookup helps. Not a plain connection error: with the whole cluster away
 * (one broker restarting) a new consumer cannot do better than kafkajs's own retries.
 */
export function coordinatorGone(err: unknown): boolean {
  for (let e = err as { name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.name === 'KafkaJSBrokerNotFound') return true;
    e = e.cause as typeof e;
  }
  return false;
}
