import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config';
import type { EgressPriority, EnvelopeCodec } from '../envelope';
import { createCodec } from '../kafka';
import { DlqWriter } from './dlq-writer';
import type { Logger, Metrics } from '../observability';
import { RetryPolicy, retryOptionsFor } from '../resilience';
import { createKafka } from '../kafka/create-kafka';
import { EgressConsumer, type EgressRouter } from './egress-consumer';
import { EgressLanes } from './egress-lanes';
import type { EventPublisherPort } from '../connector/event-publisher-port';

/** The consumer group of a lane: KAFKA_GROUP_ID for the normal lane (as before lanes existed), a suffix otherwise. */
export function laneGroupId(groupId: string, lane: EgressPriority): string {
  return lane === 'normal' ? groupId : `${groupId}.${lane}`;
}

/**
 * The egress lanes from the configuration: one consumer per priority — KAFKA_TOPIC_EGRESS in group KAFKA_GROUP_ID,
 * KAFKA_TOPIC_EGRESS_URGENT and KAFKA_TOPIC_EGRESS_BULK in groups of their own — with EGRESS_CONCURRENCY records in
 * flight each (the bulk lane EGRESS_BULK_RATE_SHARE of it), the codec SCHEMA_REGISTRY_URL selects, poison records
 * to KAFKA_TOPIC_EGRESS_DLQ, and a drain deadline inside the shutdown deadline.
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
): EgressLanes {
  const logger = deps.logger.child({ part: 'egress-consumer' });
  const kafka = deps.kafka ?? createKafka(config.kafka, logger);
  const codec = deps.codec ?? createCodec(config);
  const dlq = new DlqWriter(deps.publisher, config.kafka.topics.egressDlq, deps.metrics);
  const { concurrency, bulkRateShare } = config.egress;
  const topics = config.kafka.topics;
  const lane = (name: EgressPriority, topic: string, maxInFlight: number) =>
    new EgressConsumer({
      kafka,
      topic,
      groupId: laneGroupId(config.kafka.groupId, name),
      lane: name,
      codec,
      router: deps.router,
      dlq,
      logger: name === 'normal' ? logger : logger.child({ lane: name }),
      metrics: deps.metrics,
      maxInFlight,
      sessionTimeoutMs: config.egress.sessionTimeoutMs,
      // The server gives the whole stop shutdownTimeoutMs; the drain takes most of it, the producer flush the rest.
      drainTimeoutMs: Math.max(1_000, Math.floor(config.shutdownTimeoutMs * 0.6)),
      retry: new RetryPolicy(retryOptionsFor(config.nodeEnv)),
    });
  return new EgressLanes({
    urgent: lane('urgent', topics.egressUrgent, concurrency),
    normal: lane('normal', topics.egress, concurrency),
    bulk: lane('bulk', topics.egressBulk, Math.max(1, Math.ceil(concurrency * bulkRateShare))),
  });
}
