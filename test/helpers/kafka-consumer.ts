import type { Kafka, KafkaMessage } from 'kafkajs';
import { headersToStrings } from '../../src/kafka/cloud-events';
import { createStoppableConsumer } from '../../src/kafka/stoppable-consumer';
import { onCleanup } from './cleanup';
import { isMockBroker, testKafka, uniqueName } from './kafka';
import { waitFor } from './wait-for';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

function toRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value: message.value,
    headers: headersToStrings(message.headers),
  };
}

// Short sessions because the mock waits ~sessionTimeout for members that left. Stoppable: a reader
// disconnected while it joins (a timed-out read, a failed test) must not go on consuming after the file.
const readerConsumer = (kafka: Kafka, groupPrefix: string) =>
  createStoppableConsumer(kafka, {
    groupId: uniqueName(groupPrefix),
    sessionTimeout: isMockBroker() ? 6000 : 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 50,
  });

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
  const consumer = readerConsumer(options.kafka ?? testKafka(), 'ie-test-reader');
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
            records.push(toRecord(topic, partition, message));
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

export interface TopicFollower {
  /** The records of `topic` read so far, in arrival order (each partition's in offset order). */
  records(topic: string): readonly ConsumedRecord[];
  /** Waits until `done` holds for the records of `topic` read so far, and returns them. */
  until(
    topic: string,
    done: (records: readonly ConsumedRecord[]) => boolean,
    timeoutMs?: number,
    /** What `done` waits for, for the timeout's message. */
    what?: string,
  ): Promise<readonly ConsumedRecord[]>;
}

/**
 * One consumer, in a group of its own, that reads `topics` from the
 * beginning into per-topic buffers until its cleanup (after the test, or
 * after the file when called from beforeAll). Reading back then costs no
 * group join: the mock delays each new group's first join by ~3 s. Resolves
 * once the group is joined.
 */
export async function followTopics(
  topics: string[],
  options: { kafka?: Kafka; groupPrefix?: string } = {},
): Promise<TopicFollower> {
  const buffers = new Map(topics.map((t) => [t, [] as ConsumedRecord[]]));
  const buffer = (topic: string) => {
    const records = buffers.get(topic);
    if (!records) throw new Error(`${topic} is not followed (only ${topics.join(', ')})`);
    return records;
  };
  const consumer = readerConsumer(options.kafka ?? testKafka(), options.groupPrefix ?? 'ie-test-follower');
  let crashed: unknown;
  consumer.on(consumer.events.CRASH, (e) => {
    if (!(e.payload as { restart?: boolean }).restart) crashed = e.payload.error;
  });
  onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      buffer(topic).push(toRecord(topic, partition, message));
    },
  });
  return {
    records: buffer,
    until: async (topic, done, timeoutMs = 30_000, what = 'records') => {
      const records = buffer(topic);
      await waitFor(
        () => {
          if (crashed) throw crashed;
          return done(records);
        },
        timeoutMs,
        () => `${what} on ${topic} (have ${records.length})`,
      );
      return records;
    },
  };
}

/**
 * Reads `topics` from the beginning up to the high watermarks they had when called: done once every
 * partition's record just below its high watermark has been seen. Each position (topic, partition, offset)
 * counts once: a consumer that rejoins its group or retries a fetch may hand a record over again, and counting
 * deliveries instead of positions (as `readRecords` with a `count` does) then stops before the last records.
 * `redelivered` says how often that happened.
 */
export async function readToEnd(options: {
  topics: string[];
  timeoutMs?: number;
  kafka?: Kafka;
}): Promise<{ records: ConsumedRecord[]; redelivered: number }> {
  const kafka = options.kafka ?? testKafka();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const admin = kafka.admin();
  await admin.connect();
  const lastOffset = new Map<string, bigint>();
  try {
    for (const topic of options.topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) lastOffset.set(`${topic}/${p.partition}`, BigInt(p.high) - 1n);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const seen = new Map<string, ConsumedRecord>();
  const remaining = new Set(lastOffset.keys());
  let redelivered = 0;
  if (remaining.size === 0) return { records: [], redelivered };
  const consumer = readerConsumer(kafka, 'ie-test-reader');
  let disconnected = false;
  const disconnect = async () => {
    if (disconnected) return;
    disconnected = true;
    await consumer.disconnect();
  };
  onCleanup(disconnect);
  await consumer.connect();
  await consumer.subscribe({ topics: options.topics, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `read ${seen.size} records of ${options.topics.join(', ')} in ${timeoutMs} ms; not at the end: ${[...remaining].join(', ')}`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            const key = `${topic}/${partition}/${message.offset}`;
            if (seen.has(key)) redelivered++;
            else seen.set(key, toRecord(topic, partition, message));
            const last = lastOffset.get(`${topic}/${partition}`);
            if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(`${topic}/${partition}`);
            if (remaining.size === 0) {
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
  return { records: [...seen.values()], redelivered };
}
