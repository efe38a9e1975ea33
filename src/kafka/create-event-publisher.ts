import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config';
import type { EnvelopeCodec } from '../envelope';
import { createCodec } from './create-codec';
import type { Logger, Metrics } from '../observability';
import { createKafka } from './create-kafka';
import { EventPublisher, type EventPublisherOptions } from './event-publisher';

/**
 * The service's publisher from its configuration: a kafkajs client from
 * KAFKA_* (TLS, SASL), the topic names, and the codec SCHEMA_REGISTRY_URL
 * selects. Pass `kafka` or `codec` to override either.
 */
export function createEventPublisher(
  config: Pick<AppConfig, 'kafka' | 'schemaRegistry'>,
  deps: { logger: Logger; metrics?: Metrics; kafka?: Kafka; codec?: EnvelopeCodec },
  options: Omit<EventPublisherOptions, 'kafka' | 'topics' | 'codec' | 'logger' | 'metrics'> = {},
): EventPublisher {
  return new EventPublisher({
    ...options,
    kafka: deps.kafka ?? createKafka(config.kafka, deps.logger),
    topics: config.kafka.topics,
    codec: deps.codec ?? createCodec(config),
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}
