import { performance } from 'node:perf_hooks';
import {
  CompressionTypes,
  type Kafka,
  type Message,
  type Producer,
  type ProducerConfig,
  type RecordMetadata,
} from 'kafkajs';
import type { TopicNames } from '../config';
import { ensureValidEnvelope, JsonEnvelopeCodec, type EnvelopeCodec, type InternalEventV2 } from '../envelope';
import { IngressEgressError } from '../errors';
import {
  failSpan,
  injectTraceHeaders,
  kafkaAttributes,
  setKafkaLanding,
  silentLogger,
  SpanKind,
  startSpan,
  type Logger,
  type Metrics,
} from '../observability';
import { cloudEventHeaders } from './cloud-events';
import { JavaCompatiblePartitioner } from './java-partitioner';
import { toKafkaError } from './kafka-errors';
import { ProduceBatcher, type OutgoingRecord } from './produce-batcher';
import type { EventPublisherPort, PublishedRecord, RawRecord } from '../connector/event-publisher-port';
import { keyFor, topicFor } from './topics';
import { finishesWithin } from '../common/deadline';

export type PublisherState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopping' | 'stopped';

export interface EventPublisherOptions {
  kafka: Kafka;
  topics: TopicNames;
  /** JSON unless given (see createCodec for the Schema Registry). */
  codec?: EnvelopeCodec;
  logger?: Logger;
  /** kafkaPublishLatency, kafkaPublished and kafkaPublishErrors are recorded when given. */
  metrics?: Metrics;
  /** Monotonic milliseconds (latency and deadlines). */
  now?: () => number;
  /** From publish() to acknowledgement; past it the caller gets a retriable error. Default 10000. */
  publishTimeoutMs?: number;
  /**
   * Most records per produce request. Default 1000: kafkajs's per-request costs are amortised and, with
   * one request in flight, batches this size reach a raw producer's throughput (docs/benchmarks.md).
   */
  maxBatchRecords?: number;
  /** How long a lone record waits for others to share its batch. Default 1; 0 = end of the event-loop turn. */
  lingerMs?: number;
  /** Records waiting to be sent beyond which publish() fails at once. Default 100000. */
  maxQueuedRecords?: number;
  /** Larger values are refused before they can fail a whole batch. Default 1000000 (Kafka's default limit). */
  maxRecordBytes?: number;
  /** Default none: gzip costs more CPU than it saves on small JSON records. */
  compression?: 'none' | 'gzip';
  /** kafkajs retries of one batch before it fails and the producer is renewed. Default 5. */
  sendRetries?: number;
  /** Back-off between reconnect attempts after a failure. Default 250 ms doubling to 5000 ms. */
  reconnectBackoffMs?: { initial: number; max: number };
  /** How long stop() keeps sending queued records before failing them. Default 5000. */
  stopTimeoutMs?: number;
  /**
   * A record unacknowledged this long makes the publisher stalled (not ready) before its own timeout. Default
   * 5000: a hung broker turns /readyz false within seconds, not at the webhook's answer deadline.
   */
  stallAfterMs?: number;
}

/** How often records a resolved sendBatch left unanswered are sent again before they fail (see sendBatch). */
const UNANSWERED_RESENDS = 3;

const DEFAULTS = {
  publishTimeoutMs: 10_000,
  maxBatchRecords: 1000,
  lingerMs: 1,
  maxQueuedRecords: 100_000,
  maxRecordBytes: 1_000_000,
  sendRetries: 5,
  stopTimeoutMs: 5000,
  stallAfterMs: 5000,
};

/**
 * Publishes envelopes to Kafka (EventPublisherPort). Each envelope is
 * validated, encoded by the codec, keyed by keyFor and sent to topicFor's
 * topic with CloudEvents binary-mode headers; publish() resolves only after
 * the cluster acknowledged with acks=all through an idempotent producer.
 * Concurrent publishes share produce requests (ProduceBatcher).
 *
 * After a failed batch the producer is replaced, which gives it a new
 * producer id: kafkajs hands a failed batch's sequence numbers to the next
 * batch, and if the failed one had in fact been written the broker would
 * drop the next one as a duplicate. Meanwhile the state is `reconnecting`,
 * isReady() is false, and new records wait (up to their deadline) for the
 * new producer.
 */
export class EventPublisher implements EventPublisherPort {
  private readonly kafka: Kafka;
  private readonly topics: TopicNames;
  private readonly codec: EnvelopeCodec;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly now: () => number;
  private readonly opts: typeof DEFAULTS & Pick<EventPublisherOptions, 'compression' | 'reconnectBackoffMs'>;
  private readonly batcher: ProduceBatcher;
  /** Which partition the partitioner chose for each message, to work out offsets from the batch response. */
  private readonly partitionOf = new WeakMap<Message, number>();
  private readonly latency = new Map<string, { observe(v: number): void }>();

  private state: PublisherState = 'idle';
  private producer: Producer | undefined;
  private producerConnected = false;
  /** A publish timed out since the last acknowledged batch. */
  private stalled_ = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private recovering: Promise<void> | undefined;
  private unflushed = 0;
  /** Set once stop() stops taking records from publishes that began before it. */
  private closed = false;
  private readonly encoding = new Set<Promise<Buffer>>();
  private wakeReconnect: (() => void) | undefined;

  /** The kafkajs client it produces with, shared by the service's start-up topic check. */
  get client(): Kafka {
    return this.kafka;
  }

  constructor(options: EventPublisherOptions) {
    this.kafka = options.kafka;
    this.topics = options.topics;
    this.codec = options.codec ?? new JsonEnvelopeCodec();
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.now = options.now ?? (() => performance.now());
    this.opts = {
      publishTimeoutMs: options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs,
      maxBatchRecords: options.maxBatchRecords ?? DEFAULTS.maxBatchRecords,
      lingerMs: options.lingerMs ?? DEFAULTS.lingerMs,
      maxQueuedRecords: options.maxQueuedRecords ?? DEFAULTS.maxQueuedRecords,
      maxRecordBytes: options.maxRecordBytes ?? DEFAULTS.maxRecordBytes,
      sendRetries: options.sendRetries ?? DEFAULTS.sendRetries,
      stopTimeoutMs: options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs,
      stallAfterMs: options.stallAfterMs ?? DEFAULTS.stallAfterMs,
      compression: options.compression,
      reconnectBackoffMs: options.reconnectBackoffMs,
    };
    this.batcher = new ProduceBatcher({
      send: (records) => this.sendBatch(records),
      maxBatchRecords: this.opts.maxBatchRecords,
      lingerMs: this.opts.lingerMs,
      maxQueuedRecords: this.opts.maxQueuedRecords,
      timeoutMs: this.opts.publishTimeoutMs,
      now: this.now,
      timeoutError: (sent, ms) => {
        // Connected but nothing acknowledged in time (a hung or overloaded broker): not ready until a batch is.
        this.stalled_ = true;
        return new IngressEgressError(
          'IE_KAFKA_UNAVAILABLE',
          sent
            ? `Kafka did not acknowledge within ${ms} ms; the record may still be written (consumers deduplicate by event id)`
            : `Kafka was unavailable for ${ms} ms; the record was not sent`,
          { details: { maybeWritten: sent } },
        );
      },
      overflowError: (queued) =>
        new IngressEgressError('IE_KAFKA_UNAVAILABLE', `${queued} records are already waiting for Kafka`, {
          details: { maybeWritten: false },
        }),
    });
  }

  get status(): PublisherState {
    return this.state;
  }

  /** True while connected: publishes are sent now (webhooks answer 503 at once otherwise). */
  isReady(): boolean {
    return this.state === 'connected';
  }

  /**
   * Connected, yet a publish timed out since the last acknowledged batch: a hung or overloaded broker.
   * /readyz is false meanwhile; publishes still go out, and the first acknowledged batch clears it.
   */
  get stalled(): boolean {
    if (this.stalled_) return true;
    // Records waiting longer than stallAfterMs: the broker is hung or overloaded, even before any times out.
    const since = this.batcher.oldestPendingSince();
    return since !== undefined && this.now() - since >= this.opts.stallAfterMs;
  }

  /** Records stop() gave up on (their callers got a retriable error); 0 until stop() got that far. */
  get unflushedAtStop(): number {
    return this.unflushed;
  }

  /** Connects the producer. Rejects with a retriable IE_KAFKA_UNAVAILABLE if the cluster cannot be reached. */
  start(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      return Promise.reject(new IngressEgressError('IE_LIFECYCLE', 'the publisher was stopped and cannot reopen'));
    }
    this.starting ??= this.connectFirst();
    return this.starting;
  }

  private async connectFirst(): Promise<void> {
    this.state = 'connecting';
    const producer = this.createProducer();
    this.producer = producer;
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      if (this.state === 'connecting') {
        this.state = 'idle';
        this.starting = undefined;
      }
      throw toKafkaError(err, 'connecting to Kafka');
    }
    this.producerConnected = true;
    if (this.state === 'connecting') {
      this.state = 'connected';
      this.logger.info('kafka publisher connected');
    }
  }

  /**
   * Sends what is queued (up to stopTimeoutMs, or `timeoutMs` when the caller has less time left), fails the
   * rest with IE_KAFKA_NOT_CONNECTED, logs how many it could not flush, then disconnects. Idempotent; the
   * publisher never reopens.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state === 'idle') {
      this.state = 'stopped';
      this.batcher.close();
      return (this.stopping = Promise.resolve());
    }
    const starting = this.starting;
    this.state = 'stopping';
    const budgetMs = Math.max(0, Math.min(this.opts.stopTimeoutMs, options.timeoutMs ?? Infinity));
    this.stopping = (async () => {
      // One budget for everything before the records are given up: a connect or a reconnect loop against a
      // broker that is down must not hold the stop past the caller's deadline.
      await finishesWithin(
        (async () => {
          await starting?.catch(() => undefined);
          this.wakeReconnect?.();
          await this.recovering;
          // Publishes that began before stop() are still encoding: let them join the queue, then flush it.
          await Promise.allSettled([...this.encoding]);
          if (!this.producerConnected) return;
          await this.batcher.drain();
        })(),
        budgetMs,
      );
      this.closed = true;
      const inFlight = this.batcher.sendingBatch;
      // Sent but not acknowledged by the deadline: not flushed either (the callers are answered when kafkajs gives up).
      const unacknowledged = this.batcher.unacknowledgedInFlight;
      const queued = this.batcher.failQueued(
        new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'the publisher stopped before the record was sent', {
          details: { maybeWritten: false },
        }),
      );
      // Each one's caller got a retriable error (a webhook: 503, so Twilio retries; egress: no commit).
      const unsent = queued + unacknowledged;
      if (unsent > 0 || inFlight) {
        this.logger.warn(
          {
            unsent,
            queued,
            unacknowledgedInFlight: unacknowledged,
            batchInFlight: inFlight,
            connected: this.producerConnected,
          },
          'kafka publisher stopped with records it could not flush',
        );
      }
      this.unflushed = unsent;
      // A batch in flight settles within the kafkajs retry budget; disconnecting under it would make kafkajs reconnect.
      await this.batcher.whenNotSending();
      this.batcher.close();
      await this.producer?.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'kafka disconnect failed'));
      this.producerConnected = false;
      this.state = 'stopped';
      this.logger.info('kafka publisher stopped');
    })();
    return this.stopping;
  }

  /**
   * Validates, encodes and publishes one envelope. Rejects with
   * EnvelopeValidationError (nothing published) when the envelope is invalid,
   * IE_KAFKA_NOT_CONNECTED before start/after stop, IE_KAFKA_UNAVAILABLE
   * (retriable) when Kafka does not acknowledge in time.
   */
  publish(event: InternalEventV2): Promise<PublishedRecord> {
    const started = this.now();
    try {
      this.assertAccepting();
      const valid = ensureValidEnvelope(event);
      const topic = topicFor(valid, this.topics);
      // A codec that needs no I/O saves the promise and the tick of an await per record.
      if (this.codec.encodeSync) {
        return this.enqueue(topic, this.message(valid, this.codec.encodeSync(valid)), started, true);
      }
      return this.encodeThenEnqueue(valid, topic, started);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async encodeThenEnqueue(valid: InternalEventV2, topic: string, started: number): Promise<PublishedRecord> {
    const encoding = this.codec.encode(valid);
    this.encoding.add(encoding);
    let value: Buffer;
    try {
      value = await encoding;
    } finally {
      this.encoding.delete(encoding);
    }
    return this.enqueue(topic, this.message(valid, value), started, true);
  }

  private message(valid: InternalEventV2, value: Buffer): Message {
    return { key: keyFor(valid), value, headers: cloudEventHeaders(valid, this.codec.contentType) };
  }

  /** Publishes a record that is not an envelope (DLQ entries), with the same batching and guarantees. */
  async publishRaw(record: RawRecord): Promise<PublishedRecord> {
    const started = this.now();
    this.assertAccepting();
    return this.enqueue(
      record.topic,
      { key: record.key, value: record.value, ...(record.headers ? { headers: record.headers } : {}) },
      started,
    );
  }

  private assertAccepting(): void {
    if (this.state !== 'connected' && this.state !== 'reconnecting') {
      throw new IngressEgressError('IE_KAFKA_NOT_CONNECTED', `the publisher is ${this.state}`, {
        details: { state: this.state, maybeWritten: false },
      });
    }
  }

  private enqueue(topic: string, message: Message, started: number, ownHeaders = false): Promise<PublishedRecord> {
    // Encoding may have awaited the Schema Registry while stop() ran to its end.
    if (this.closed) {
      return Promise.reject(
        new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'the publisher stopped before the record was sent', {
          details: { state: this.state, maybeWritten: false },
        }),
      );
    }
    const size = (message.value?.length ?? 0) + (typeof message.key === 'string' ? message.key.length : 0);
    if (size > this.opts.maxRecordBytes) {
      return Promise.reject(
        new IngressEgressError(
          'IE_KAFKA_UNAVAILABLE',
          `record of ${size} bytes exceeds the ${this.opts.maxRecordBytes}-byte limit`,
          { retriable: false, details: { topic, bytes: size } },
        ),
      );
    }
    // A producer span from here to Kafka's ack; its context travels in the record's traceparent/tracestate.
    const span = startSpan(`send ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: () =>
        kafkaAttributes({
          topic,
          operation: 'send',
          key: message.key ?? null,
          ...(typeof message.headers?.ce_id === 'string' ? { messageId: message.headers.ce_id } : {}),
        }),
    });
    let sent: Promise<PublishedRecord>;
    if (span.isRecording()) {
      // The envelope's headers are this publisher's own (made per record): written in place. A raw record's are its
      // caller's: copied first.
      const headers: Record<string, string | Buffer | undefined> = ownHeaders
        ? (message.headers as Record<string, string | Buffer | undefined>)
        : { ...(message.headers as Record<string, string | Buffer | undefined>) };
      injectTraceHeaders(span, headers);
      sent = this.batcher.add({ topic, message: ownHeaders ? message : { ...message, headers } }).then(
        (landed) => {
          setKafkaLanding(span, landed);
          span.end();
          return landed;
        },
        (err: unknown) => {
          failSpan(span, err);
          span.end();
          throw err;
        },
      );
    } else {
      sent = this.batcher.add({ topic, message });
    }
    const metrics = this.metrics;
    if (!metrics) return sent;
    return sent.then(
      (result) => {
        this.latencyFor(metrics, topic).observe((this.now() - started) / 1000);
        return result;
      },
      (err: unknown) => {
        metrics.kafkaPublishErrors.inc({ topic });
        throw err;
      },
    );
  }

  private latencyFor(metrics: Metrics, topic: string): { observe(v: number): void } {
    let child = this.latency.get(topic);
    if (!child) {
      child = metrics.kafkaPublishLatency.labels({ topic });
      this.latency.set(topic, child);
    }
    return child;
  }

  private createProducer(): Producer {
    const partitionOf = this.partitionOf;
    const config: ProducerConfig = {
      idempotent: true,
      // kafkajs's idempotent producer keeps ordering only with one request in flight per broker.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      retry: { retries: this.opts.sendRetries },
      createPartitioner: () => {
        const partition = JavaCompatiblePartitioner();
        return (args) => {
          const p = partition(args);
          partitionOf.set(args.message, p);
          return p;
        };
      },
    };
    return this.kafka.producer(config);
  }

  /**
   * Sends the records and checks that the cluster answered for every one. kafkajs (2.2.4) can resolve a
   * sendBatch without having sent some of its records: when a request fails (a leader killed) it retries only
   * towards brokers that have not answered yet, so the records of a partition whose new leader is a broker that
   * had already answered are never sent, and no answer for that partition comes back. Those records are sent
   * again (the idempotent producer makes a repeat of anything the old leader did write harmless); records
   * still unanswered after UNANSWERED_RESENDS tries fail alone, retriable, so a webhook gets its 503 and not a
   * 2xx for a record that is not on Kafka.
   */
  private async sendBatch(records: readonly OutgoingRecord[]): Promise<(PublishedRecord | Error)[]> {
    const results: (PublishedRecord | undefined)[] = await this.sendOnce(records);
    for (let resend = 1; ; resend++) {
      const unanswered = results.flatMap((r, i) => (r === undefined ? [i] : []));
      if (unanswered.length === 0) return results as PublishedRecord[];
      if (resend > UNANSWERED_RESENDS) {
        const error = new IngressEgressError(
          'IE_KAFKA_UNAVAILABLE',
          `Kafka did not acknowledge ${unanswered.length} record(s) of the batch after ${UNANSWERED_RESENDS} resends`,
        );
        return results.map((r) => r ?? error);
      }
      this.logger.warn(
        { records: unanswered.length, of: records.length, resend },
        'kafka answered only part of a batch (a partition leader moved); sending the unanswered records again',
      );
      this.metrics?.kafkaUnansweredResent.inc(unanswered.length);
      const again = await this.sendOnce(unanswered.map((i) => records[i]!));
      unanswered.forEach((i, j) => (results[i] = again[j]));
    }
  }

  private async sendOnce(records: readonly OutgoingRecord[]): Promise<(PublishedRecord | undefined)[]> {
    const producer = this.producer;
    if (!producer || !this.producerConnected) {
      throw new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'the producer is not connected');
    }
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic);
      if (list) list.push(r.message);
      else byTopic.set(r.topic, [r.message]);
    }
    let response: RecordMetadata[];
    try {
      response = await producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
        timeout: this.opts.publishTimeoutMs,
        compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      });
    } catch (err) {
      const error = toKafkaError(err, 'publishing to Kafka');
      this.logger.warn({ err: error, records: records.length }, 'kafka batch failed');
      this.recover(producer);
      throw error;
    }
    this.stalled_ = false;
    const results = this.offsets(records, response);
    if (this.metrics) {
      const answered = new Map<string, number>();
      for (const r of results) if (r) answered.set(r.topic, (answered.get(r.topic) ?? 0) + 1);
      for (const [topic, n] of answered) this.metrics.kafkaPublished.inc({ topic }, n);
    }
    return results;
  }

  // Records of one partition are appended in batch order from the partition's base offset.
  // Offsets are int64 strings; numbers are exact (and cheaper than BigInt) below 2^53.
  /** Each record's offset; undefined for a record whose partition the response does not answer for. */
  private offsets(records: readonly OutgoingRecord[], response: RecordMetadata[]): (PublishedRecord | undefined)[] {
    // topic → next offset by partition number
    const next = new Map<string, (number | bigint)[]>();
    for (const m of response) {
      const raw = m.baseOffset ?? m.offset;
      if (raw === undefined) continue;
      let byPartition = next.get(m.topicName);
      if (!byPartition) next.set(m.topicName, (byPartition = []));
      const base = Number(raw);
      byPartition[m.partition] = Number.isSafeInteger(base) ? base : BigInt(raw);
    }
    return records.map(({ topic, message }) => {
      const partition = this.partitionOf.get(message) ?? -1;
      const byPartition = next.get(topic);
      const offset = byPartition?.[partition];
      if (byPartition === undefined || offset === undefined) return undefined;
      byPartition[partition] = typeof offset === 'bigint' ? offset + 1n : offset + 1;
      return { topic, partition, offset: String(offset) };
    });
  }

  private recover(failed: Producer): void {
    if (this.state !== 'connected' || failed !== this.producer) return;
    this.state = 'reconnecting';
    this.producerConnected = false;
    this.batcher.pause();
    this.recovering = this.reconnect(failed).finally(() => {
      this.recovering = undefined;
    });
  }

  private async reconnect(failed: Producer): Promise<void> {
    await failed.disconnect().catch(() => undefined);
    const backoff = this.opts.reconnectBackoffMs ?? { initial: 250, max: 5000 };
    let delay = backoff.initial;
    while (this.state === 'reconnecting') {
      const producer = this.createProducer();
      try {
        await producer.connect();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        if (this.state !== 'reconnecting') return;
        this.logger.warn({ err: toKafkaError(err, 'reconnecting'), retryInMs: delay }, 'kafka reconnect failed');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeReconnect = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeReconnect = undefined;
        delay = Math.min(delay * 2, backoff.max);
        continue;
      }
      this.producer = producer;
      this.producerConnected = true;
      if (this.state === 'reconnecting') {
        this.state = 'connected';
        this.logger.info('kafka publisher reconnected');
        this.batcher.resume();
      }
      return;
    }
  }
}
