/**
 * Materialises the ConsentStore from the compacted consent topic: at start
 * it reads every partition from the beginning up to the high watermarks it
 * saw when it started (then it is `ready`), and it keeps following the topic
 * while running, so opt-outs published by any instance reach every instance.
 *
 * Every instance needs every partition, so the loader joins a throw-away
 * consumer group of its own (a fresh id per start) and never commits:
 * Kafka, not a local file, holds the truth, and a restart rebuilds the same
 * state by replaying the compacted topic.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { parseEnvelope, type InternalEventV2 } from '../envelope';
import { IngressEgressError } from '../errors';
import { Lifecycle } from '../common/lifecycle';
import { createStoppableConsumer } from '../kafka/stoppable-consumer';
import { advancePosition, fetchTopicRanges, onEmptyBatch, rangesRead, type TopicRanges } from '../kafka/topic-ranges';
import { silentLogger, type Logger } from '../observability';
import type { ConsentStore } from './consent-store';

export type ConsentLoaderState = 'idle' | 'catching_up' | 'ready' | 'failed' | 'stopping' | 'stopped';

export interface ConsentLoaderOptions {
  kafka: Kafka;
  /** The compacted consent topic (KAFKA_TOPIC_CONSENT). */
  topic: string;
  store: ConsentStore;
  /** Record value → validated envelope; throws on a bad record (e.g. an EnvelopeCodec's decode). */
  decode: (value: Buffer) => Promise<InternalEventV2>;
  logger?: Logger;
  /** Prefix of the per-start consumer group id (default `ingress-egress-consent`). */
  groupIdPrefix?: string;
  /** Consumer session timeout (default 10 s); a group of one member rebalances only at join. */
  sessionTimeoutMs?: number;
  /** Longest a fetch waits for new records (default 500 ms): bounds how stale a following store can be. */
  maxWaitTimeMs?: number;
}

export interface ConsentLoaderStats {
  /** Records that changed the store. */
  applied: number;
  /** Valid envelopes that changed nothing (help requests, repeats, other types). */
  unchanged: number;
  /** Records that could not be decoded; logged and skipped. */
  skipped: number;
  /** Tombstones (null values) that removed a key. */
  removed: number;
}

export class ConsentLoader {
  private readonly lifecycle: Lifecycle;
  /** The consumer crashed after catching up (kafkajs will not restart it): the store no longer follows. */
  private crashed = false;
  private consumer: Consumer | undefined;
  /** The ranges to read before the store is ready: the topic's extent at start. */
  private ranges: TopicRanges = new Map();
  /** The next offset this loader will read, by partition (what it has applied is below it). */
  private readonly next = new Map<number, bigint>();
  private caughtUp: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  private readonly log: Logger;
  private readonly counters: ConsentLoaderStats = { applied: 0, unchanged: 0, skipped: 0, removed: 0 };

  constructor(private readonly options: ConsentLoaderOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'consent-loader', topic: options.topic });
    this.lifecycle = new Lifecycle(
      'the consent loader',
      () => this.run(),
      () => this.halt(),
      {
        retryFailedStart: true,
        onStopRequested: () => {
          this.caughtUp?.reject(
            new IngressEgressError('IE_LIFECYCLE', 'the consent loader was stopped before it caught up'),
          );
          this.caughtUp = undefined;
        },
      },
    );
  }

  get state(): ConsentLoaderState {
    const s = this.lifecycle.state;
    if (s === 'starting') return 'catching_up';
    if (s === 'running') return this.crashed ? 'failed' : 'ready';
    return s;
  }

  /** True once the store holds everything the topic held at start, and while it keeps following. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  private get stopping(): boolean {
    const s = this.lifecycle.state;
    return s === 'stopping' || s === 'stopped';
  }

  get stats(): Readonly<ConsentLoaderStats> {
    return { ...this.counters };
  }

  /**
   * Applies a consent event this process has just published (Kafka
   * acknowledged it at `partition`/`offset`), before the loader reads it back:
   * read-your-writes, so a send right after a STOP (or START) webhook sees it
   * instead of waiting for the next fetch (up to maxWaitTimeMs). Other
   * instances learn it by following the topic, as before.
   *
   * Skipped when the loader has already read past that offset: it applied the
   * record itself, and perhaps a newer one for the same key that this must not
   * undo. Otherwise the loader reads the record again later, in order, so the
   * store ends as the topic says. Returns whether the event was applied.
   */
  applyOwn(event: InternalEventV2, at: { partition: number; offset: string }): boolean {
    if (this.stopping || event.type !== 'sms.consent.changed') return false;
    let offset: bigint;
    try {
      offset = BigInt(at.offset);
    } catch {
      return false;
    }
    if (offset < 0n || (this.next.get(at.partition) ?? 0n) > offset) return false;
    return this.options.store.apply(event);
  }

  /**
   * Starts reading and resolves once caught up. Calling it again returns the
   * same promise; after a failed start it tries again; after stop() it
   * rejects, because a stopped loader never reopens (create a new one).
   */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async halt(): Promise<void> {
    try {
      await this.consumer?.disconnect();
    } catch (err) {
      this.log.warn({ err }, 'consent consumer did not disconnect cleanly');
    }
  }

  private async run(): Promise<void> {
    const { kafka, topic } = this.options;
    const startedAt = Date.now();
    try {
      this.ranges = await fetchTopicRanges(kafka, topic);
      if (this.stopping) throw new IngressEgressError('IE_LIFECYCLE', 'the consent loader was stopped while starting');

      const caughtUp = new Promise<void>((resolve, reject) => {
        this.caughtUp = { resolve, reject };
      });
      // stop() or a crash may reject it before it is awaited below; that is handled there.
      caughtUp.catch(() => undefined);
      const consumer = createStoppableConsumer(kafka, {
        groupId: `${this.options.groupIdPrefix ?? 'ingress-egress-consent'}-${randomUUID()}`,
        sessionTimeout: this.options.sessionTimeoutMs ?? 10000,
        heartbeatInterval: Math.max(Math.floor((this.options.sessionTimeoutMs ?? 10000) / 10), 100),
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 500,
      });
      this.consumer = consumer;
      onEmptyBatch(consumer, (partition, lastOffset) => this.progress(partition, lastOffset));
      consumer.on(consumer.events.CRASH, (e) => {
        // Stopping, the consumer is not restarted after a crash: that is the stop, not a failure.
        if (e.payload.restart || this.stopping) return;
        this.log.error(
          { err: e.payload.error },
          'consent consumer crashed; the consent store no longer follows the topic',
        );
        this.crashed = true;
        this.caughtUp?.reject(e.payload.error);
        this.caughtUp = undefined;
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
      this.checkCaughtUp();
      await caughtUp;
      this.log.info(
        { ...this.counters, optedOutNumbers: this.options.store.optedOutNumbers, ms: Date.now() - startedAt },
        'consent store caught up with the topic',
      );
    } catch (err) {
      if (!this.stopping) {
        // A failed start (broker down, topic missing) can be retried: release what it built.
        this.ranges = new Map();
        this.caughtUp = undefined;
        const consumer = this.consumer;
        this.consumer = undefined;
        await consumer?.disconnect().catch(() => undefined);
      }
      throw err;
    }
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      await this.onRecord(message.key, message.value, batch.partition, message.offset);
      this.next.set(batch.partition, BigInt(message.offset) + 1n);
      resolveOffset(message.offset);
    }
    await heartbeat();
    this.progress(batch.partition, batch.lastOffset());
  }

  private async onRecord(key: Buffer | null, value: Buffer | null, partition: number, offset: string): Promise<void> {
    const { store } = this.options;
    if (value === null) {
      // A tombstone: compaction will drop the key, so forget it now as well.
      if (key !== null && store.removeKey(key.toString('utf8'))) this.counters.removed++;
      return;
    }
    let event: InternalEventV2;
    try {
      event = await this.options.decode(value);
    } catch (err) {
      this.counters.skipped++;
      this.log.warn(
        { partition, offset, err: err instanceof Error ? err.message : String(err) },
        'skipped a consent record that could not be decoded',
      );
      return;
    }
    if (store.apply(event)) this.counters.applied++;
    else this.counters.unchanged++;
  }

  private progress(partition: number, lastOffset: string): void {
    advancePosition(this.next, partition, lastOffset);
    this.checkCaughtUp();
  }

  private checkCaughtUp(): void {
    if (!this.caughtUp || !this.consumer || !rangesRead(this.ranges, this.next)) return;
    this.caughtUp.resolve();
    this.caughtUp = undefined;
  }
}

/** The JSON decoder: JSON.parse + the envelope schema (with a Schema Registry, pass the configured codec's decode). */
export async function decodeJsonConsentRecord(value: Buffer): Promise<InternalEventV2> {
  return parseEnvelope(JSON.parse(value.toString('utf8')));
}
