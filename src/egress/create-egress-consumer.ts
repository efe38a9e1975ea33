import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config';
import type { EnvelopeCodec } from '../envelope';
import { createCodec } from '../kafka';
import { DlqWriter } from './dlq-writer';
import type { Logger, Metrics } from '../observability';
import { RetryPolicy, retryOptionsFor } from '../resilience';
import { createKafka } from '../kafka/create-kafka';
import { EgressConsumer, type EgressRouter } from './egress-consumer';
import type { EventPublisherPort } from '../connector/event-publisher-port';

/**
 * The egress consumer from the configuration: group KAFKA_GROUP_ID on
 * KAFKA_TOPIC_EGRESS, EGRESS_CONCURRENCY records in flight, the codec
 * SCHEMA_REGISTRY_URL selects, poison records to KAFKA_TOPIC_EGRESS_DLQ, and
 * a drain deadline inside the shutdown deadline.
 */
export function createEgressConsumer(
  config: AppConfig,
  deps: {
    router: EgressRouter;
    publisher: EventPublisherPort;
    logger: Logger;
    metrics?: Metrics | undefined;
    kafka?: Kafka;
    codec?: EnvelopeCodec;
  },
): EgressConsumer {
  const logger = deps.logger.child({ part: 'egress-consumer' });
  return new EgressConsumer({
    kafka: deps.kafka ?? createKafka(config.kafka, logger),
    topic: config.kafka.topics.egress,
    groupId: config.kafka.groupId,
    codec: deps.codec ?? createCodec(config),
    router: deps.router,
    dlq: new DlqWriter(deps.publisher, config.kafka.topics.egressDlq, deps.metrics),
    logger,
    metrics: deps.metrics,
    maxInFlight: config.egress.concurrency,
    sessionTimeoutMs: config.egress.sessionTimeoutMs,
    // The server gives the whole stop shutdownTimeoutMs; the drain takes most of it, the producer flush the rest.
    drainTimeoutMs: Math.max(1_000, Math.floor(config.shutdownTimeoutMs * 0.6)),
    retry: new RetryPolicy(retryOptionsFor(config.nodeEnv)),
  });
}
