import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { AppConfig, TopicNames } from '../../src/config';
import { topicSpecs, waitForTopics } from '../../src/kafka/ensure-topics';
import { onCleanup } from './cleanup';

/**
 * Kafka for integration tests. KAFKA_BROKERS comes from the caller
 * (validate_deliverable.sh starts a local Apache Kafka broker; any external
 * cluster works too) or from jest's globalSetup, and IE_TEST_BROKER says what
 * it is: `kafka` (the local Apache Kafka of scripts/kafka.sh), `mock`
 * (librdkafka's mock cluster: no CreateTopics/DeleteTopics, auto-creates
 * topics with 4 partitions) or `external`. Topics are created through the
 * admin API with the configs production needs (sms.consent and the ledger
 * compacted) and deleted after the test, except on the mock.
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
export async function createTestTopic(
  prefix = 'ie-test',
  partitions = 4,
  configs: Readonly<Record<string, string>> = {},
  brokers: string[] = testBrokers(),
): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    if (isMockBroker()) {
      // Asking for metadata makes the mock create the topic, so consumers and offset queries see it at once.
      await admin.fetchTopicMetadata({ topics: [topic] });
    } else {
      const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, configEntries }],
        waitForLeaders: false,
      });
      await waitForTopics(admin, [topic]);
      onCleanup(async () => {
        // The test's own cluster may be gone already: nothing to delete then.
        const cleanup = testKafka(brokers).admin();
        try {
          await cleanup.connect();
          await cleanup.deleteTopics({ topics: [topic], timeout: 5000 });
        } catch {
          // gone with its cluster
        } finally {
          await cleanup.disconnect();
        }
      });
    }
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** The eight envelope topics and the send ledger's: every topic the service needs. */
export interface TestTopics extends TopicNames {
  egressLedger: string;
}

/** Fresh topics, one per role plus the send ledger, each with the configs production gives it. */
export async function createTestTopics(prefix = 'ie', brokers: string[] = testBrokers()): Promise<TestTopics> {
  // Role names stand in for the topic names: each spec gives a prefix and its configs.
  const prefixes: TopicNames = {
    inbound: 'inbound',
    status: 'status',
    consent: 'consent',
    egress: 'egress',
    egressUrgent: 'egress-urgent',
    egressBulk: 'egress-bulk',
    outcomes: 'outcomes',
    egressDlq: 'dlq',
    voiceCalls: 'voice-calls',
    voiceRecordings: 'voice-recordings',
  };
  const specs = topicSpecs(prefixes, 'ledger');
  const names = await Promise.all(specs.map((s) => createTestTopic(`${prefix}-${s.topic}`, 4, s.configs, brokers)));
  const nameOf = new Map(specs.map((s, i) => [s.topic, names[i]!]));
  const topics = Object.fromEntries(
    Object.entries(prefixes).map(([role, p]) => [role, nameOf.get(p)!]),
  ) as unknown as TopicNames;
  return { ...topics, egressLedger: nameOf.get('ledger')! };
}

/** The kafka part of AppConfig for the test brokers and the given topics. */
export function testKafkaConfig(topics: TopicNames, brokers: string[] = testBrokers()): AppConfig['kafka'] {
  return { brokers, clientId: 'ie-test', groupId: uniqueName('ie-group'), ssl: false, sasl: undefined, topics };
}

/** The KAFKA_TOPIC_* variables that point the service at `topics` (and at their or the given ledger topic). */
export function topicEnv(
  topics: TopicNames & { egressLedger?: string },
  ledger = topics.egressLedger,
): Record<string, string> {
  return {
    KAFKA_TOPIC_INBOUND: topics.inbound,
    KAFKA_TOPIC_STATUS: topics.status,
    KAFKA_TOPIC_CONSENT: topics.consent,
    KAFKA_TOPIC_EGRESS: topics.egress,
    KAFKA_TOPIC_EGRESS_URGENT: topics.egressUrgent,
    KAFKA_TOPIC_EGRESS_BULK: topics.egressBulk,
    KAFKA_TOPIC_OUTCOMES: topics.outcomes,
    KAFKA_TOPIC_EGRESS_DLQ: topics.egressDlq,
    KAFKA_TOPIC_VOICE_CALLS: topics.voiceCalls,
    KAFKA_TOPIC_VOICE_RECORDINGS: topics.voiceRecordings,
    ...(ledger ? { KAFKA_TOPIC_EGRESS_LEDGER: ledger } : {}),
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
