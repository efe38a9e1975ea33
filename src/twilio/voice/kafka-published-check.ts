import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { TopicNames } from '../../config';
import { IngressEgressError } from '../../errors';
import { topicFor } from '../../kafka/topics';
import { createStoppableConsumer } from '../../kafka/stoppable-consumer';
import type { OutboxEntry, PublishedCheck } from './event-outbox';

export interface KafkaPublishedCheckOptions {
  kafka: Kafka;
  topics: TopicNames;
  /** How far before the oldest entry to start reading (producer and broker clocks, CreateTime). Default 5 min. */
  marginMs?: number;
  /** Longest wait for the records up to the end. Default 30 s. */
  timeoutMs?: number;
}

/**
 * The outbox's check against Kafka: reads each topic the entries go to, from
 * the offsets of a little before the oldest entry's append time up to the
 * current end, and returns the event ids found in `ce_id` headers. A
 * throw-away consumer group, nothing committed; it only runs after a restart
 * with pending entries or a failed attempt, so the scan is short.
 */
export function kafkaPublishedCheck(options: KafkaPublishedCheckOptions): PublishedCheck {
  return async (entries: readonly OutboxEntry[]) => {
    const found = new Set<string>();
    const byTopic = new Map<string, number>();
    for (const e of entries) {
      const topic = topicFor(e.event, options.topics);
      byTopic.set(topic, Math.min(byTopic.get(topic) ?? Infinity, e.appendedAtMs));
    }
    for (const [topic, oldest] of byTopic) {
      for (const id of await idsSince(options, topic, oldest - (options.marginMs ?? 5 * 60_000))) found.add(id);
    }
    return found;
  };
}

async function idsSince(options: KafkaPublishedCheckOptions, topic: string, sinceMs: number): Promise<Set<string>> {
  const admin = options.kafka.admin();
  const ranges = new Map<number, { start: bigint; end: bigint }>();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, sinceMs));
    for (const p of ends) {
      const end = BigInt(p.high);
      const s = starts.find((x) => x.partition === p.partition)?.offset;
      // -1: no record at or after the time.
      const start = s === undefined || BigInt(s) < 0n ? end : BigInt(s);
      if (start < end) ranges.set(p.partition, { start, end });
    }
  } finally {
    await admin.disconnect();
  }
  const ids = new Set<string>();
  if (ranges.size === 0) return ids;
  const consumer = createStoppableConsumer(options.kafka, {
    groupId: `ingress-egress-outbox-check-${randomUUID()}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new IngressEgressError('IE_KAFKA_UNAVAILABLE', `${topic} could not be read to its end in time`)),
        options.timeoutMs ?? 30_000,
      );
      const reached = new Set<number>();
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            const range = ranges.get(partition);
            const offset = BigInt(message.offset);
            if (range && offset >= range.start && offset < range.end) {
              const id = message.headers?.ce_id;
              if (id !== undefined) ids.add((Array.isArray(id) ? id[id.length - 1]! : id).toString());
            }
            if (range && offset + 1n >= range.end) reached.add(partition);
            if (reached.size === ranges.size) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      for (const [partition, range] of ranges) consumer.seek({ topic, partition, offset: range.start.toString() });
    });
  } finally {
    await consumer.disconnect();
  }
  return ids;
}
