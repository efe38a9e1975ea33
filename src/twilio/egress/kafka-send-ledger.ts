import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { z } from 'zod';
import { EgressError } from '../../egress/egress-errors';
import { LedgerTable } from './ledger-table';
import type { LedgerEntry, SendLedger } from './send-ledger';
import type { Logger } from '../../observability';
import { systemClock, type Clock } from '../../resilience';
import { Lifecycle, type LifecycleState } from '../../common/lifecycle';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import { createStoppableConsumer } from '../../kafka/stoppable-consumer';
import {
  advancePosition,
  fetchTopicRanges,
  onEmptyBatch,
  rangesRead,
  type TopicRanges,
} from '../../kafka/topic-ranges';
import { finishesWithin } from '../../common/deadline';

export interface KafkaSendLedgerOptions {
  kafka: Kafka;
  /** Writes go through the service's publisher (acks=all, idempotent), resolving after the ack. */
  publisher: EventPublisherPort;
  /** The ledger topic (KAFKA_TOPIC_EGRESS_LEDGER): compacted, keyed by `requestId|recipient`. */
  topic: string;
  /** Prefix of this instance's private reader group (it reads everything and never commits). */
  groupIdPrefix: string;
  instanceId: string;
  logger: Logger;
  clock?: Clock;
  /** Entries not written for this long are forgotten in memory. Default 7 days (match the topic's retention). */
  retentionMs?: number;
  /**
   * Most entries kept in memory (EGRESS_LEDGER_MAX_ENTRIES); past it the entry written longest ago is forgotten.
   * Default unbounded.
   */
  maxEntries?: number;
  /** Called after the kept entries change (metrics): how many, and `forgottenBefore()`. */
  onStats?: (entries: number, forgottenBefore: number) => void;
  /** How long restore() waits to catch up before failing (retriable). Default 60 s. */
  restoreTimeoutMs?: number;
  sessionTimeoutMs?: number;
}

/** Header naming the instance that wrote a record, so it skips parsing its own when it reads them back. */
const OWNER_HEADER = 'ledger-owner';

const recordSchema = z.object({
  v: z.literal(1),
  key: z.string().min(1),
  state: z.enum(['intent', 'sent']),
  requestId: z.string().min(1),
  recipient: z.string(),
  accountSid: z.string(),
  attemptAt: z.number(),
  owner: z.string(),
  updatedAt: z.number(),
  messageSid: z.string().optional(),
  status: z.string().optional(),
  numSegments: z.number().optional(),
  encoding: z.enum(['GSM-7', 'UCS-2']).optional(),
  attempts: z.number().optional(),
});

/**
 * The send ledger on a compacted Kafka topic, shared by every instance.
 *
 * Writes: a record per intent and per send, keyed by `requestId|recipient`,
 * through the publisher (acks=all), applied in memory once acknowledged.
 * Reads: each instance tails the whole topic from the beginning in its own
 * consumer group (no commits), so what another instance wrote shows up here.
 * `restore()` (called by the egress consumer on every partition assignment)
 * waits until this reader has reached the high watermark the topic had when
 * it was called: everything made durable before the assignment is visible
 * before the first record of the new assignment is handled.
 *
 * Compaction keeps the latest record per key; entries are also forgotten in
 * memory after `retentionMs` (use a topic with cleanup.policy=compact,delete
 * and the same retention so restarts do not read them back), and past
 * `maxEntries` the oldest are. `forgottenBefore()` tells the stages how far
 * back an absent entry still proves a request new.
 */
export class KafkaSendLedger implements SendLedger {
  private readonly table: LedgerTable;
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private consumer: Consumer | undefined;
  private running: Promise<void> | undefined;
  /** restore() calls in progress; the reader is paused when there are none. */
  private restoring = 0;
  /** Next offset to read, per partition, as far as this reader got. */
  private readonly positions = new Map<number, bigint>();
  private waiters: (() => void)[] = [];
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly lifecycle = new Lifecycle(
    'KafkaSendLedger',
    () => this.doStart(),
    () => this.doStop(),
  );

  constructor(private readonly o: KafkaSendLedgerOptions) {
    this.clock = o.clock ?? systemClock;
    this.retentionMs = o.retentionMs ?? 7 * 24 * 3600_000;
    this.table = new LedgerTable(o.maxEntries);
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  get size(): number {
    return this.table.size;
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  get(key: string): LedgerEntry | undefined {
    return this.table.get(key);
  }

  byRequest(requestId: string): LedgerEntry[] {
    return this.table.byRequest(requestId);
  }

  byMessageSid(messageSid: string): LedgerEntry | undefined {
    return this.table.byMessageSid(messageSid);
  }

  /** The later of the last entry the table forgot and the retention (what Kafka deleted was never read). */
  forgottenBefore(): number {
    return Math.max(this.table.forgottenUpTo, this.clock.now() - this.retentionMs);
  }

  recordIntent(entry: Omit<LedgerEntry, 'state' | 'updatedAt'>): Promise<void> {
    return this.write({ ...entry, state: 'intent', updatedAt: this.clock.now() });
  }

  recordSent(entry: Omit<LedgerEntry, 'state' | 'updatedAt'> & { messageSid: string }): Promise<void> {
    return this.write({ ...entry, state: 'sent', updatedAt: this.clock.now() });
  }

  async restore(): Promise<void> {
    if (!this.consumer || !this.running) {
      throw new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the send ledger is not started');
    }
    await this.running.catch((err: unknown) => {
      throw new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the send ledger reader did not start', { cause: err });
    });
    let ranges: TopicRanges;
    try {
      ranges = await fetchTopicRanges(this.o.kafka, this.o.topic);
    } catch (err) {
      throw new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the send ledger offsets could not be read', {
        cause: err,
      });
    }
    const caughtUp = () => rangesRead(ranges, this.positions);
    this.restoring++;
    this.setPaused(false);
    try {
      const deadline = this.clock.now() + (this.o.restoreTimeoutMs ?? 60_000);
      while (!caughtUp()) {
        const left = deadline - this.clock.now();
        if (left <= 0) {
          throw new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the send ledger did not catch up in time');
        }
        await finishesWithin(
          new Promise<void>((resolve) => this.waiters.push(resolve)),
          Math.min(left, 500),
          this.clock,
        );
      }
    } finally {
      // Between restores the reader stands still: this instance owns its partitions until the next
      // assignment (which restores again), so reading back every record written meanwhile would only cost CPU.
      if (--this.restoring === 0) this.setPaused(true);
    }
  }

  private setPaused(paused: boolean): void {
    try {
      if (paused) this.consumer?.pause([{ topic: this.o.topic }]);
      else this.consumer?.resume([{ topic: this.o.topic }]);
    } catch {
      // Not running (starting or stopping): nothing to pause or resume.
    }
  }

  private async doStart(): Promise<void> {
    const session = this.o.sessionTimeoutMs ?? 10_000;
    const consumer = createStoppableConsumer(this.o.kafka, {
      groupId: `${this.o.groupIdPrefix}.ledger.${this.o.instanceId}`,
      sessionTimeout: session,
      heartbeatInterval: Math.max(100, Math.floor(session / 10)),
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    onEmptyBatch(consumer, (partition, lastOffset) => this.advance(partition, lastOffset));
    await consumer.connect();
    await consumer.subscribe({ topics: [this.o.topic], fromBeginning: true });
    // kafkajs resolves run() once the group is joined (seconds on a fresh group); restore() waits
    // for it, so the service starts without waiting and the egress consumer joins meanwhile.
    this.running = consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: (p) => this.apply(p),
    });
    this.running.catch((err: unknown) => this.o.logger.error({ err }, 'send ledger reader failed to start'));
    this.pruneTimer = setInterval(() => {
      this.table.prune(this.clock.now() - this.retentionMs);
      this.reportStats();
    }, 3600_000);
    this.pruneTimer.unref();
    this.restore().then(
      () => this.o.logger.info({ topic: this.o.topic, entries: this.table.size }, 'send ledger restored'),
      (err: unknown) => this.o.logger.warn({ err }, 'send ledger not restored yet'),
    );
  }

  private async doStop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.consumer?.disconnect().catch((err: unknown) => this.o.logger.warn({ err }, 'ledger reader disconnect'));
  }

  private async apply(p: EachBatchPayload): Promise<void> {
    const cutoff = this.clock.now() - this.retentionMs;
    for (const m of p.batch.messages) {
      if (m.value === null) continue;
      // This instance applied its own records when they were acknowledged.
      if (m.headers?.[OWNER_HEADER]?.toString() === this.o.instanceId) continue;
      const parsed = parseRecord(m.value);
      if (parsed === undefined) {
        this.o.logger.warn({ partition: p.batch.partition, offset: m.offset }, 'unreadable send ledger record skipped');
      } else if (parsed.updatedAt >= cutoff) {
        this.table.apply(parsed);
      } else {
        this.table.forgot(parsed.updatedAt);
      }
    }
    this.reportStats();
    this.advance(p.batch.partition, p.batch.lastOffset());
  }

  private reportStats(): void {
    this.o.onStats?.(this.table.size, this.forgottenBefore());
  }

  private advance(partition: number, lastOffset: string): void {
    advancePosition(this.positions, partition, lastOffset);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async write(entry: LedgerEntry): Promise<void> {
    try {
      await this.o.publisher.publishRaw({
        topic: this.o.topic,
        key: entry.key,
        value: Buffer.from(JSON.stringify({ v: 1, ...entry }), 'utf8'),
        headers: { [OWNER_HEADER]: entry.owner },
      });
    } catch (err) {
      throw new EgressError('IE_EGRESS_LEDGER_UNAVAILABLE', 'the send ledger could not be written', { cause: err });
    }
    this.table.apply(entry);
    this.reportStats();
  }
}

function parseRecord(value: Buffer): LedgerEntry | undefined {
  try {
    const r = recordSchema.safeParse(JSON.parse(value.toString('utf8')));
    if (!r.success) return undefined;
    const { v: _v, ...entry } = r.data;
    return entry;
  } catch {
    return undefined;
  }
}
