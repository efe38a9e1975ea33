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

/** Sum of the high watermarks of a topic's partitions: how many records it ever received. */
export async function recordCount(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}
