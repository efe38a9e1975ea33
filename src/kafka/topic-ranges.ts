import { randomUUID } from 'node:crypto';
import type { Consumer, KafkaMessage, Kafka } from 'kafkajs';
import { IngressEgressError } from '../errors';
import { createStoppableConsumer } from './stoppable-consumer';

/**
 * Reading a topic "up to where it ends now": the one helper behind the
 * consent loader's and the send ledger's catch-up, the DLQ reader and the
 * voice outbox's check.
 *
 * A range is [start, end) of one partition; `end` is the high watermark seen
 * when the range was taken. Empty partitions have no range.
 */
export interface PartitionRange {
  start: bigint;
  end: bigint;
}

export type TopicRanges = ReadonlyMap<number, PartitionRange>;

/**
 * The non-empty partitions' ranges from their low watermark (or, with
 * `sinceMs`, from the first record at or after that time) to their high
 * watermark now.
 */
export async function fetchTopicRanges(
  kafka: Kafka,
  topic: string,
  sinceMs?: number,
): Promise<Map<number, PartitionRange>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts =
      sinceMs === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, sinceMs));
    const ranges = new Map<number, PartitionRange>();
    for (const p of ends) {
      const end = BigInt(p.high);
      let start = BigInt(p.low);
      if (starts) {
        const s = starts.find((x) => x.partition === p.partition)?.offset;
        // -1: no record at or after the time.
        start = s === undefined || BigInt(s) < 0n ? end : BigInt(s);
      }
      if (start < end) ranges.set(p.partition, { start, end });
    }
    return ranges;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * True when every range has been read: `positions` holds the next offset to
 * read by partition (a partition not in it is still at its range's start).
 */
export function rangesRead(ranges: TopicRanges, positions: ReadonlyMap<number, bigint>): boolean {
  for (const [partition, range] of ranges) {
    if ((positions.get(partition) ?? range.start) < range.end) return false;
  }
  return true;
}

/**
 * Moves a partition's position past the last offset of a fetched batch. A
 * batch of only control records or compacted-away offsets still moves it (the
 * consumer's END_BATCH_PROCESS event reports it with batchSize 0), which a
 * count of delivered messages would miss.
 */
export function advancePosition(positions: Map<number, bigint>, partition: number, lastOffset: string): void {
  const next = BigInt(lastOffset) + 1n;
  if (next > (positions.get(partition) ?? 0n)) positions.set(partition, next);
}

export interface ReadTopicRangesOptions {
  kafka: Kafka;
  topic: string;
  ranges: TopicRanges;
  /** Prefix of the throw-away consumer group's id (a fresh UUID is appended). */
  groupIdPrefix: string;
  /** Longest wait for all ranges to be read. */
  timeoutMs: number;
  /** Called for each record inside a range, in offset order per partition. */
  onMessage: (partition: number, message: KafkaMessage) => void;
}

/**
 * Reads the ranges once with a throw-away consumer group (nothing committed)
 * and resolves when all are read; IE_KAFKA_UNAVAILABLE when that takes longer
 * than `timeoutMs`. The consumer is always disconnected, also on a timeout
 * during the group join.
 */
export async function readTopicRanges(o: ReadTopicRangesOptions): Promise<void> {
  if (o.ranges.size === 0) return;
  const consumer = createStoppableConsumer(o.kafka, {
    groupId: `${o.groupIdPrefix}-${randomUUID()}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const positions = new Map<number, bigint>();
      const timer = setTimeout(
        () => reject(new IngressEgressError('IE_KAFKA_UNAVAILABLE', `${o.topic} could not be read to its end in time`)),
        o.timeoutMs,
      );
      const progress = (partition: number, lastOffset: string) => {
        advancePosition(positions, partition, lastOffset);
        if (rangesRead(o.ranges, positions)) {
          clearTimeout(timer);
          resolve();
        }
      };
      onEmptyBatch(consumer, progress);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = o.ranges.get(batch.partition);
            if (range === undefined) return;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset >= range.start && offset < range.end) o.onMessage(batch.partition, message);
            }
            progress(batch.partition, batch.lastOffset());
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      for (const [partition, range] of o.ranges)
        consumer.seek({ topic: o.topic, partition, offset: range.start.toString() });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Reports batches that delivered no message (control records, compacted gaps) with their last offset. */
export function onEmptyBatch(consumer: Consumer, report: (partition: number, lastOffset: string) => void): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.batchSize === 0) report(e.payload.partition, e.payload.lastOffset);
  });
}
