import type { Kafka } from 'kafkajs';
import type { TopicNames } from '../../config';
import { topicFor } from '../../kafka/topics';
import { fetchTopicRanges, readTopicRanges } from '../../kafka/topic-ranges';
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
  const ids = new Set<string>();
  await readTopicRanges({
    kafka: options.kafka,
    topic,
    ranges: await fetchTopicRanges(options.kafka, topic, sinceMs),
    groupIdPrefix: 'ingress-egress-outbox-check',
    timeoutMs: options.timeoutMs ?? 30_000,
    onMessage: (_partition, message) => {
      const id = message.headers?.ce_id;
      if (id !== undefined) ids.add((Array.isArray(id) ? id[id.length - 1]! : id).toString());
    },
  });
  return ids;
}
