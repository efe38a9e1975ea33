import type { Kafka } from 'kafkajs';
import { headersToStrings } from '../../src/kafka/cloud-events';
import { onCleanup } from './cleanup';
import { isMockBroker, testKafka, uniqueName } from './kafka';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads `count` records from the beginning of `topics` with a plain kafkajs
 * consumer in a fresh group, then disconnects. Short session timeouts because
 * the mock delays a group's first join (~3 s) and waits ~sessionTimeout for
 * members that left.
 */
export async function readRecords(options: {
  topics: string[];
  count: number;
  timeoutMs?: number;
  kafka?: Kafka;
}): Promise<ConsumedRecord[]> {
  const { topics, count } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const consumer = (options.kafka ?? testKafka()).consumer({
    groupId: uniqueName('ie-test-reader'),
    sessionTimeout: isMockBroker() ? 6000 : 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
  });
  let disconnected = false;
  const disconnect = async () => {
    if (disconnected) return;
    disconnected = true;
    await consumer.disconnect();
  };
  onCleanup(disconnect);
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const records: ConsumedRecord[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`read ${records.length} of ${count} records from ${topics.join(', ')} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            records.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value,
              headers: headersToStrings(message.headers),
            });
            if (records.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await disconnect();
  }
  return records;
}
