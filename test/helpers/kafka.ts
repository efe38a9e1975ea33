import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { AppConfig, TopicNames } from '../../src/config';
import { onCleanup } from './cleanup';

/**
 * Kafka for integration tests. KAFKA_BROKERS comes from jest's globalSetup
 * (a local mock broker) or from the caller (a real cluster). The mock has no
 * CreateTopics/DeleteTopics and auto-creates topics with 4 partitions; on a
 * real cluster topics are created and deleted through the admin API.
 */
export const isMockBroker = (): boolean => process.env.IE_TEST_BROKER === 'mock';

export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through the integration project (its globalSetup)');
  return brokers.split(',').map((b) => b.trim());
}

/** A kafkajs client for tests: no log noise, quick retries. */
export function testKafka(brokers: string[] = testBrokers(), clientId = 'ie-test'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A fresh topic for this test (or file, from beforeAll), deleted afterwards on a real cluster. */
export async function createTestTopic(prefix = 'ie-test', partitions = 4): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = testKafka().admin();
  await admin.connect();
  try {
    if (isMockBroker()) {
      // Asking for metadata makes the mock create the topic, so consumers and offset queries see it at once.
      await admin.fetchTopicMetadata({ topics: [topic] });
    } else {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      onCleanup(async () => {
        const cleanup = testKafka().admin();
        await cleanup.connect();
        await cleanup.deleteTopics({ topics: [topic] }).finally(() => cleanup.disconnect());
      });
    }
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Six fresh topics, one per role. */
export async function createTestTopics(prefix = 'ie'): Promise<TopicNames> {
  const [inbound, status, consent, egress, outcomes, egressDlq] = await Promise.all(
    ['inbound', 'status', 'consent', 'egress', 'outcomes', 'dlq'].map((role) => createTestTopic(`${prefix}-${role}`)),
  );
  return {
    inbound: inbound!,
    status: status!,
    consent: consent!,
    egress: egress!,
    outcomes: outcomes!,
    egressDlq: egressDlq!,
  };
}

/** The kafka part of AppConfig for the test brokers and the given topics. */
export function testKafkaConfig(topics: TopicNames, brokers: string[] = testBrokers()): AppConfig['kafka'] {
  return { brokers, clientId: 'ie-test', groupId: uniqueName('ie-group'), ssl: false, sasl: undefined, topics };
}

/** The KAFKA_TOPIC_* variables that point the service at `topics` (and at a ledger topic when given). */
export function topicEnv(topics: TopicNames, ledgerTopic?: string): Record<string, string> {
  return {
    KAFKA_TOPIC_INBOUND: topics.inbound,
    KAFKA_TOPIC_STATUS: topics.status,
    KAFKA_TOPIC_CONSENT: topics.consent,
    KAFKA_TOPIC_EGRESS: topics.egress,
    KAFKA_TOPIC_OUTCOMES: topics.outcomes,
    KAFKA_TOPIC_EGRESS_DLQ: topics.egressDlq,
    ...(ledgerTopic ? { KAFKA_TOPIC_EGRESS_LEDGER: ledgerTopic } : {}),
  };
}

/** Each partition's high watermark: the offset its next record will get. */
export async function highWatermarks(topic: string, brokers: string[] = testBrokers()): Promise<Map<number, bigint>> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the high watermarks of a topic's partitions: how many records it ever received. */
export async function recordCount(topic: string, brokers: string[] = testBrokers()): Promise<number> {
  let sum = 0;
  for (const high of (await highWatermarks(topic, brokers)).values()) sum += Number(high);
  return sum;
}
