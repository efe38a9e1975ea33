import { setMaxListeners } from 'node:events';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { EgressPriority, EnvelopeCodec, InternalEventV2 } from '../envelope';
import type { DlqWriter } from './dlq-writer';
import { IngressEgressError } from '../errors';
import { extractTraceContext, inSpan, kafkaAttributes, SpanKind, type Logger, type Metrics } from '../observability';
import { readRetriable, RetryPolicy, Semaphore, sleep, systemClock, type Clock } from '../resilience';
import type { AssignmentInfo, EgressContext, EgressHandler } from '../connector';
import { Lifecycle, type LifecycleState } from '../common/lifecycle';
import { headersToStrings } from '../kafka/cloud-events';
import { OffsetTracker } from './offset-tracker';
import { SourceLabels } from '../kafka/source-label';
import { createStoppableConsumer } from '../kafka/stoppable-consumer';
import { finishesWithin, settlesWithin } from '../common/deadline';
import { coordinatorGone } from '../kafka/kafka-errors';
import { OffsetCommitter } from './offset-committer';
import { runPerKey } from './per-key-scheduler';

/** Optional hooks an egress handler may offer the consumer (TwilioEgressHandler does). */
export interface AssignmentAwareHandler extends EgressHandler {
  /** Runs after each group join, before any record of the new assignment is handled (ledger restore, rate share). */
  partitionsAssigned?(info: AssignmentInfo): Promise<void>;
  /** Polled per lane: while true for any handler, that lane's fetching pauses (circuit open, rate-limit queue full). */
  shouldPause?(lane: EgressPriority): boolean;
}

/** Where records go: ConnectorManager routes by `source`. */
export interface EgressRouter {
  egressHandlerFor(source: string): EgressHandler | undefined;
  list(): { egress?: EgressHandler | undefined }[];
}

export interface EgressConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** The lane this consumer serves (docs/egress.md, "Priority lanes"). Default `normal`. */
  lane?: EgressPriority;
  codec: EnvelopeCodec;
  router: EgressRouter;
  dlq: DlqWriter;
  logger: Logger;
  metrics?: Metrics | undefined;
  clock?: Clock;
  /** Records handled at the same time over all partitions (EGRESS_CONCURRENCY). Default 100. */
  maxInFlight?: number;
  /** Group session timeout (EGRESS_SESSION_TIMEOUT_SECS). Default 30000. */
  sessionTimeoutMs?: number;
  /** How long stop() lets records in flight finish before aborting their waits. Default 10000. */
  drainTimeoutMs?: number;
  /** Finished offsets are committed at most this often while a batch runs (and always at its end). Default 200. */
  commitIntervalMs?: number;
  /** Back-off of a record whose handler threw a retriable error. */
  retry?: RetryPolicy;
  /** kafkajs partitionsConsumedConcurrently. Default 16. */
  partitionsConsumedConcurrently?: number;
  /** Bytes fetched per partition per round. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** How often pause conditions are checked. Default 100 ms. */
  pausePollMs?: number;
  /** How often kafka_consumer_lag is refreshed from the topic's high watermarks. Default 5000 ms. */
  lagRefreshMs?: number;
  /**
   * A batch still running after this long is left to finish in the background, its partition paused until it has,
   * so one slow record (a Twilio create that hangs) holds back only its own partition. Default 1000 ms; Infinity
   * turns it off.
   */
  detachAfterMs?: number;
}

/** A batch left to finish in the background (see detachAfterMs). */
interface DetachedBatch {
  /** Aborted when a rebalance begins: kafkajs does not wait for this batch, so nothing new may reach Twilio. */
  lost: AbortController;
}

export interface EgressConsumerStats {
  /** Records whose handler finished (an outcome is on Kafka). */
  handled: number;
  /** Records for sources no connector here handles: counted and committed. */
  unrouted: number;
  /** Records sent to the DLQ by the consumer (undecodable, or the handler threw a non-retriable error). */
  poison: number;
  /** Handler calls retried after a retriable error. */
  retries: number;
  commits: number;
  /** Group joins so far (1 after start; each rebalance adds one). */
  joins: number;
  /** Heartbeats the group coordinator answered. */
  heartbeats: number;
  paused: boolean;
  assignedPartitions: number;
  /** Partitions whose batch is finishing in the background (fetching them waits until it has). */
  detachedPartitions: number;
}

/**
 * The egress consumer: a kafkajs consumer group on sms.egress.
 *
 * - Each record is decoded (codec + schema) and routed by `source`;
 *   undecodable records go to the DLQ with the cause, records for other
 *   connectors are counted and committed.
 * - Partitions run in parallel; inside a partition, records with different
 *   keys (recipients) run in parallel and records with the same key strictly
 *   in order. At most `maxInFlight` records are handled at once.
 * - An offset is committed only when it and every record before it in the
 *   partition finished, i.e. their outcomes are on Kafka.
 * - A handler's retriable error retries the record in place with back-off
 *   (the key's later records wait); anything else it throws is a poison
 *   record for the DLQ.
 * - Fetching pauses while a handler asks (circuit open, rate limits queued).
 *   Heartbeats continue during long sends, so a slow Twilio never costs the
 *   assignment.
 * - kafkajs fetches again only once every batch of its last fetch returned,
 *   so one slow record would hold back every partition. A batch still running
 *   after `detachAfterMs` is therefore detached: its partition is paused, the
 *   batch finishes in the background (resolving and committing as usual),
 *   then the partition resumes. Other partitions go on meanwhile.
 * - A rebalance: an attached batch finishes before the consumer rejoins, so a
 *   new owner never starts a partition while this one still sends for it. A
 *   detached batch cannot hold the rejoin back, so when a rebalance begins it
 *   starts nothing more that has not reached Twilio (a create already under
 *   way ends; the send ledger's intent makes the next owner reconcile it), and
 *   after a new join it neither resolves nor commits.
 * - stop() drains: no new records start, those in flight get
 *   `drainTimeoutMs` to finish, finished offsets are committed, then the
 *   consumer leaves the group (after a group join under way, which kafkajs
 *   cannot interrupt: see createStoppableConsumer).
 */
export class EgressConsumer {
  private readonly o: Required<Omit<EgressConsumerOptions, 'metrics' | 'clock' | 'retry'>> & {
    metrics: Metrics | undefined;
    clock: Clock;
    retry: RetryPolicy;
  };
  private consumer: Consumer | undefined;
  private readonly slots: Semaphore;
  private accepting = true;
  private readonly abort = new AbortController();
  private barrier: Promise<void> = Promise.resolve();
  private readonly active = new Set<Promise<void>>();
  private readonly committer: OffsetCommitter;
  private pauseTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private lagAdmin: Admin | undefined;
  private lagRefreshing = false;
  /** The partitions of the last assignment (whose lag this instance reports). */
  private assignedPartitions: readonly number[] = [];
  private paused = false;
  private joined = false;
  private crashed = false;
  /** Since when, and how many restarts, the consumer has been down after a fatal crash. */
  private outage: { since: number; restarts: number } | undefined;
  private restarting: Promise<void> | undefined;
  /** The consumer a restart is replacing (at most one restart at a time). */
  private restartOf: Consumer | undefined;
  /** Aborted when stop() begins: ends a restart's back-off at once. */
  private readonly stopping = new AbortController();
  private totalPartitions = 0;
  private assigned = 0;
  private readonly sources = new SourceLabels();
  /** Batches finishing in the background, by partition (at most one per partition: it stays paused). */
  private readonly detached = new Map<number, DetachedBatch>();
  private readonly counters = { handled: 0, unrouted: 0, poison: 0, retries: 0, joins: 0, heartbeats: 0 };
  private readonly lifecycle = new Lifecycle(
    'EgressConsumer',
    () => this.doStart(),
    () => this.doStop(),
  );

  constructor(options: EgressConsumerOptions) {
    this.o = {
      lane: 'normal',
      maxInFlight: 100,
      sessionTimeoutMs: 30_000,
      drainTimeoutMs: 10_000,
      commitIntervalMs: 200,
      partitionsConsumedConcurrently: 16,
      maxBytesPerPartition: 1024 * 1024,
      pausePollMs: 100,
      lagRefreshMs: 5_000,
      detachAfterMs: 1_000,
      ...options,
      metrics: options.metrics,
      clock: options.clock ?? systemClock,
      retry: options.retry ?? new RetryPolicy(),
    };
    this.slots = new Semaphore(this.o.maxInFlight);
    this.committer = new OffsetCommitter({
      topic: this.o.topic,
      // None while the consumer of the moment is being replaced: kafkajs would drop the commit and report success.
      consumer: () => (this.consumer !== undefined && this.restartOf === this.consumer ? undefined : this.consumer),
      logger: this.o.logger,
      metrics: this.o.metrics,
      onCoordinatorGone: (err) => this.coordinatorLost(err),
    });
    // Every record in flight may wait on this signal (rate limit, circuit, back-off).
    setMaxListeners(0, this.abort.signal);
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** Ready while running and not down after a fatal crash (feeds /readyz once egress started). */
  isReady(): boolean {
    return this.lifecycle.state === 'running' && !this.crashed;
  }

  /** True once the consumer joined its group at least once. */
  get hasJoined(): boolean {
    return this.joined;
  }

  stats(): EgressConsumerStats {
    return {
      ...this.counters,
      commits: this.committer.commits,
      paused: this.paused,
      assignedPartitions: this.assigned,
      detachedPartitions: this.detached.size,
    };
  }

  /** What to look at when records stay uncommitted: kafkajs's pauses, detached batches, commits per partition. */
  diagnostics(): Record<string, unknown> {
    let kafkaPaused: unknown;
    try {
      kafkaPaused = this.consumer?.paused();
    } catch (err) {
      kafkaPaused = String(err);
    }
    return {
      kafkaPaused,
      lanePaused: this.paused,
      detached: [...this.detached.keys()],
      assigned: this.assignedPartitions,
      commits: this.committer.snapshot(),
      joins: this.counters.joins,
    };
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private handlers(): AssignmentAwareHandler[] {
    const out = new Set<AssignmentAwareHandler>();
    for (const c of this.o.router.list()) if (c.egress) out.add(c.egress as AssignmentAwareHandler);
    return [...out];
  }

  private async doStart(): Promise<void> {
    const { kafka, topic } = this.o;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      this.totalPartitions = meta.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }
    await this.runConsumer();
    this.pauseTimer = setInterval(() => this.checkPause(), this.o.pausePollMs);
    this.pauseTimer.unref();
    // The lag gauge moves at commits; a stalled consumer commits nothing, so the topic's end is read as well.
    this.lagTimer = setInterval(() => void this.refreshLag(), this.o.lagRefreshMs);
    this.lagTimer.unref();
    this.o.logger.info(
      { topic, groupId: this.o.groupId, lane: this.o.lane, partitions: this.totalPartitions },
      'egress consumer started',
    );
  }

  /** A new kafkajs consumer in the group, subscribed and running (at start, and after a fatal crash). */
  private async runConsumer(): Promise<void> {
    const { kafka, topic, logger } = this.o;
    const session = this.o.sessionTimeoutMs;
    const consumer = createStoppableConsumer(kafka, {
      groupId: this.o.groupId,
      sessionTimeout: session,
      rebalanceTimeout: Math.max(session * 2, 60_000),
      heartbeatInterval: Math.max(100, Math.min(3000, Math.floor(session / 10))),
      maxBytesPerPartition: this.o.maxBytesPerPartition,
      maxWaitTimeInMs: 100,
      retry: {
        retries: 10,
        // kafkajs asks this only for retriable failures (e.g. a broker refusing a SyncGroup during a
        // rebalance); egress must keep consuming, so the consumer always restarts (after kafkajs's back-off).
        restartOnFailure: async (err) => {
          this.o.logger.warn({ err }, 'egress consumer restarting after a failure');
          return !this.abort.signal.aborted && this.accepting;
        },
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment[topic] ?? []));
    consumer.on(consumer.events.HEARTBEAT, () => {
      this.counters.heartbeats++;
    });
    consumer.on(consumer.events.REBALANCING, () => this.loseDetached('a rebalance began'));
    consumer.on(consumer.events.CRASH, (e) => {
      const restart = (e.payload as { restart?: boolean }).restart;
      // kafkajs gives up for good after a non-retriable failure (no broker reachable while a broker
      // restarts, "The group id was not found"): the service starts a new consumer itself.
      if (restart === false) this.onFatalCrash(consumer, e.payload.error);
      else logger.warn({ err: e.payload.error }, 'egress consumer crashed; kafkajs restarts it');
    });
    await consumer.connect();
    // A new group starts at the beginning: a request published before the service first ran is still sent.
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    // kafkajs resolves run() only once the group is joined, which can take a session timeout when a
    // member vanished; the service does not wait for it to start (records wait, webhooks need not).
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently,
        eachBatch: (p) => this.track(this.eachBatch(p)),
      })
      .catch((err: unknown) => this.onFatalCrash(consumer, err));
  }

  /**
   * The group coordinator's broker is gone (killed, not merely moved): kafkajs 2.2.4 keeps asking the same node
   * id for heartbeats and commits and only gives up when its retries run out, a minute or more later, with no
   * offset committed meanwhile. A new consumer looks the coordinator up afresh, so start one now (the batch in
   * flight finishes first; what it did not commit is redelivered and the send ledger answers it).
   */
  private coordinatorLost(err: unknown): void {
    const consumer = this.consumer;
    if (!consumer || this.crashed) return;
    this.o.logger.warn({ err }, 'egress group coordinator unreachable: starting a new consumer');
    this.onFatalCrash(consumer, err);
  }

  /**
   * The consumer stopped and kafkajs will not restart it: not ready (egress is not consuming), and a new
   * consumer is started with back-off until one joins the group. Logged once per episode; every restart is
   * counted in kafka_egress_consumer_restarts_total.
   */
  private onFatalCrash(consumer: Consumer, err: unknown): void {
    if (consumer !== this.consumer || !this.accepting || this.abort.signal.aborted) return;
    // One restart per consumer: kafkajs may report the same end twice (a CRASH event and run() rejecting),
    // and a second restart would leave an orphan consumer in the group.
    if (this.restartOf === consumer) return;
    this.restartOf = consumer;
    this.crashed = true;
    this.loseDetached('the consumer stopped');
    const episode = (this.outage ??= { since: this.o.clock.now(), restarts: 0 });
    episode.restarts++;
    if (episode.restarts === 1 && isSessionTimeoutRefused(err)) {
      // The one failure a restart cannot cure: the broker refuses the group session timeout itself.
      this.o.logger.error(
        { err, sessionTimeoutSecs: this.o.sessionTimeoutMs / 1000 },
        'EGRESS_SESSION_TIMEOUT_SECS is outside the range the broker allows (group.min.session.timeout.ms to group.max.session.timeout.ms, 6 to 1800 s by default): egress cannot join its group and is not ready until it is changed',
      );
    } else if (episode.restarts === 1) {
      this.o.logger.error({ err }, 'egress consumer stopped by kafkajs; restarting it');
    } else this.o.logger.debug({ err, restarts: episode.restarts }, 'egress consumer restart failed; trying again');
    const delay = this.o.retry.delayMs(Math.min(episode.restarts, 8), err);
    this.restarting = (async () => {
      await consumer.disconnect().catch(() => undefined);
      await sleep(this.o.clock, delay, this.stopping.signal);
      if (!this.accepting || consumer !== this.consumer) return;
      this.o.metrics?.egressConsumerRestarts.inc();
      await this.runConsumer();
    })().catch((e: unknown) => {
      if (this.accepting && !this.abort.signal.aborted) this.onFatalCrash(this.consumer ?? consumer, e);
    });
  }

  private async doStop(): Promise<void> {
    const { logger, clock } = this.o;
    this.accepting = false;
    this.stopping.abort();
    if (this.pauseTimer) clearInterval(this.pauseTimer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    const drained = await finishesWithin(Promise.allSettled([...this.active]), this.o.drainTimeoutMs, clock);
    if (!drained) {
      logger.warn({ inFlight: this.slots.inUse }, 'egress drain deadline passed: aborting waits in flight');
      this.abort.abort(new IngressEgressError('IE_LIFECYCLE', 'egress consumer stopping'));
      await finishesWithin(Promise.allSettled([...this.active]), 2_000, clock);
    }
    await this.restarting?.catch(() => undefined);
    await this.consumer?.disconnect().catch((err: unknown) => logger.warn({ err }, 'egress consumer disconnect'));
    await this.lagAdmin?.disconnect().catch(() => undefined);
    logger.info({ ...this.counters, commits: this.committer.commits, drained }, 'egress consumer stopped');
  }

  /** kafka_consumer_lag of the assigned partitions from the topic's high watermarks (best effort). */
  private async refreshLag(): Promise<void> {
    if (this.lagRefreshing || !this.accepting || this.assignedPartitions.length === 0) return;
    this.lagRefreshing = true;
    try {
      if (!this.lagAdmin) {
        const admin = this.o.kafka.admin();
        await admin.connect();
        if (!this.accepting) {
          // stop() began while connecting: it will not disconnect this one.
          await admin.disconnect().catch(() => undefined);
          return;
        }
        this.lagAdmin = admin;
      }
      const offsets = await this.lagAdmin.fetchTopicOffsets(this.o.topic);
      const mine = new Set(this.assignedPartitions);
      this.committer.refreshLag(
        offsets.filter((o) => mine.has(o.partition)).map((o) => ({ partition: o.partition, high: o.high })),
      );
    } catch (err) {
      // The broker is away: the next tick tries again (the gauge keeps its last value meanwhile).
      this.o.logger.debug({ err }, 'egress lag refresh failed');
    } finally {
      this.lagRefreshing = false;
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.active.add(p);
    const done = () => this.active.delete(p);
    p.then(done, done);
    return p;
  }

  private onJoin(partitions: number[]): void {
    this.joined = true;
    if (this.outage) {
      const { since, restarts } = this.outage;
      this.o.logger.warn({ restarts, downMs: this.o.clock.now() - since }, 'egress consumer consuming again');
      this.outage = undefined;
    }
    this.crashed = false;
    this.counters.joins++;
    this.committer.reset();
    this.loseDetached('the group was joined again');
    this.assigned = partitions.length;
    this.assignedPartitions = [...partitions];
    const info: AssignmentInfo = {
      assigned: partitions.length,
      total: Math.max(this.totalPartitions, partitions.length),
      lane: this.o.lane,
    };
    this.o.logger.info({ partitions, lane: this.o.lane }, 'egress partitions assigned');
    // A new consumer starts with nothing paused; a batch still detached keeps its partition waiting.
    if (this.consumer && (this.paused || this.detached.size > 0)) {
      try {
        this.applyPause(this.consumer);
      } catch (err) {
        this.o.logger.debug({ err }, 'egress pause after join deferred');
      }
    }
    // A join that finishes while stopping hands out nothing: no record of it will be handled.
    if (!this.accepting) return;
    const handlers = this.handlers();
    const previous = this.barrier;
    // Records of the new assignment wait until every handler has caught up (e.g. restored the send ledger).
    this.barrier = previous.then(async () => {
      const r = await this.o.retry.untilStopped(
        async () => {
          for (const h of handlers) await h.partitionsAssigned?.(info);
        },
        {
          signal: this.abort.signal,
          clock: this.o.clock,
          onRetry: (err, attempt) => this.o.logger.warn({ err, attempt }, 'egress assignment hook failed; retrying'),
        },
      );
      if (r.stopped) throw new IngressEgressError('IE_LIFECYCLE', 'egress consumer stopping');
    });
    this.barrier.catch(() => undefined);
  }

  private checkPause(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    const want = this.handlers().some((h) => h.shouldPause?.(this.o.lane) === true);
    if (want === this.paused) return;
    this.paused = want;
    try {
      this.applyPause(consumer);
      this.o.logger.info(
        { paused: want, lane: this.o.lane },
        want ? 'egress fetching paused' : 'egress fetching resumed',
      );
    } catch (err) {
      // Not running yet or rebalancing: try again on the next poll.
      this.paused = !want;
      this.o.logger.debug({ err }, 'egress pause/resume deferred');
    }
  }

  /**
   * Sets kafkajs's pauses from the lane's wish and the detached batches. A whole-topic pause and a pause of some
   * partitions cannot be combined in kafkajs (pausing partitions clears a whole-topic pause), so while the lane is
   * paused the whole topic is, and otherwise exactly the partitions whose batch is still detached.
   */
  private applyPause(consumer: Consumer): void {
    const { topic } = this.o;
    if (this.paused) {
      consumer.pause([{ topic }]);
      return;
    }
    consumer.resume([{ topic }]);
    if (this.detached.size > 0) consumer.pause([{ topic, partitions: [...this.detached.keys()] }]);
  }

  /** A rebalance began or the consumer is being replaced: detached batches start nothing more. */
  private loseDetached(why: string): void {
    if (this.detached.size === 0) return;
    this.o.logger.info({ partitions: [...this.detached.keys()], why }, 'detached egress batches stop starting records');
    for (const d of this.detached.values()) {
      d.lost.abort(new IngressEgressError('IE_LIFECYCLE', `detached egress batch: ${why}`));
    }
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const { topic, partition } = batch;
    await this.barrier;
    const tracker = new OffsetTracker(batch.messages.map((m) => m.offset));
    let stale = false;
    // Aborted when this member is no longer in the group: another owner may already be handling these
    // records, so nothing that has not reached Twilio yet may go out from here.
    const lost = new AbortController();
    setMaxListeners(0, lost.signal);
    const signal = AbortSignal.any([this.abort.signal, lost.signal]);
    setMaxListeners(0, signal);
    /** Set once the batch is left to finish in the background (see detach). */
    let detached = false;
    const heartbeat = async () => {
      try {
        await p.heartbeat();
      } catch (err) {
        // A rebalance began: finish what is in flight, start nothing new, let kafkajs rejoin
        // (the group waits for this batch, so no other owner starts meanwhile).
        stale = true;
        const type = (err as { type?: unknown }).type;
        // A detached batch does not hold the rejoin back: whatever the failure, it starts nothing more.
        if (
          detached ||
          type === 'UNKNOWN_MEMBER_ID' ||
          type === 'ILLEGAL_GENERATION' ||
          type === 'FENCED_INSTANCE_ID'
        ) {
          lost.abort(new IngressEgressError('IE_LIFECYCLE', 'this instance left the egress group'));
        }
        if (coordinatorGone(err)) this.coordinatorLost(err);
        else
          this.o.logger.info({ err, partition, lost: lost.signal.aborted }, 'egress batch interrupted by a rebalance');
      }
    };
    const stop = () => stale || !this.accepting || !p.isRunning() || p.isStale();
    // Resolving and committing are this member's only while it has not joined the group again since the batch
    // began (a detached batch can outlive a rejoin, after which another member may own the partition).
    // An attached batch commits through whichever consumer runs (the group waited for it; after a consumer was
    // replaced its commits still land), as before batches could detach.
    const consumer = this.consumer;
    const joins = this.counters.joins;
    const owned = () => !detached || (this.counters.joins === joins && this.consumer === consumer);
    let lastCommit = this.o.clock.now();
    const beat = setInterval(() => void heartbeat(), Math.max(500, Math.floor(this.o.sessionTimeoutMs / 10)));
    beat.unref();
    const run = runPerKey(batch.messages, {
      slots: this.slots,
      stop,
      run: (m) =>
        this.tracedRecord({ topic, partition, offset: m.offset, timestamp: recordTime(m), heartbeat, signal }, m),
      finished: (m) => {
        const next = tracker.complete(m.offset);
        if (next === undefined || !owned()) return;
        p.resolveOffset(tracker.lastFinished!);
        const now = this.o.clock.now();
        if (now - lastCommit >= this.o.commitIntervalMs) {
          lastCommit = now;
          void this.committer.commit(partition, next, batch.highWatermark);
        }
      },
    });
    const finish = async () => {
      try {
        await run;
      } finally {
        clearInterval(beat);
      }
      const next = tracker.commitOffset;
      if (next !== undefined && owned()) await this.committer.commit(partition, next, batch.highWatermark);
    };
    // A rebalance under way (stale) keeps the batch attached: the group waits for it, as it must.
    if ((await settlesWithin(run, this.o.detachAfterMs, this.o.clock)) || stop() || !consumer) return finish();
    detached = true;
    this.detach(consumer, partition, lost, finish);
  }

  /**
   * Leaves a batch to finish in the background with its partition paused, so kafkajs fetches the other partitions
   * meanwhile; when it has finished (resolved and committed), the partition is fetched again.
   */
  private detach(consumer: Consumer, partition: number, lost: AbortController, finish: () => Promise<void>): void {
    this.detached.set(partition, { lost });
    this.o.metrics?.egressDetachedBatches.inc({ lane: this.o.lane });
    try {
      this.applyPause(consumer);
    } catch (err) {
      this.o.logger.debug({ err, partition }, 'egress partition pause deferred');
    }
    this.o.logger.debug({ partition, lane: this.o.lane }, 'egress batch detached: its partition waits for it');
    void this.track(
      finish()
        .catch((err: unknown) => this.o.logger.warn({ err, partition }, 'detached egress batch failed'))
        .finally(() => {
          // Only this batch's entry: a new consumer may have detached a batch of the same partition since.
          if (this.detached.get(partition)?.lost === lost) this.detached.delete(partition);
          // The consumer may have been replaced meanwhile (a fatal crash, a lost coordinator), and the new one paused
          // this partition at its join because the batch was still detached: lift that pause on whichever runs now.
          const current = this.consumer;
          if (!current) return;
          try {
            this.applyPause(current);
          } catch (err) {
            // Not running (rebalancing or stopping): the next pause check or join applies the pauses again.
            this.o.logger.debug({ err, partition }, 'egress partition resume deferred');
          }
        }),
    );
  }

  /**
   * processRecord in a consumer span whose parent is the producer's span from the record's `traceparent`
   * header (when it has one), so the request's trace goes on through every stage to its outcome.
   */
  private tracedRecord(ctx: EgressContext, m: KafkaMessage): Promise<boolean> {
    return inSpan(
      `process ${ctx.topic}`,
      {
        kind: SpanKind.CONSUMER,
        parent: extractTraceContext(m.headers),
        attributes: () =>
          kafkaAttributes({
            topic: ctx.topic,
            operation: 'process',
            partition: ctx.partition,
            offset: m.offset,
            key: m.key,
            ...(m.headers?.ce_id !== undefined ? { messageId: m.headers.ce_id.toString() } : {}),
          }),
      },
      () => this.processRecord(ctx, m),
    );
  }

  /** Handles one record; false when it was left unfinished (stopping, aborted) and must be redelivered. */
  private async processRecord(ctx: EgressContext, m: KafkaMessage): Promise<boolean> {
    const event = await this.decode(ctx, m);
    if (event === 'left') return false;
    if (event === 'poison') return true;
    const handler = this.o.router.egressHandlerFor(event.source);
    if (!handler) {
      // Another connector's request (or a producer's mistake): committed, but never silently.
      this.counters.unrouted++;
      this.o.metrics?.egressUnrouted.inc({ source: this.sources.of(event.source) });
      if (this.sources.firstSeen(event.source)) {
        this.o.logger.warn(
          { source: this.sources.of(event.source), type: event.type },
          'egress records for a source no connector here handles: committed without an outcome (counted in kafka_egress_unrouted_total)',
        );
      }
      return true;
    }
    try {
      const r = await this.o.retry.untilStopped(() => handler.handle(event, ctx), {
        signal: ctx.signal,
        clock: this.o.clock,
        retryable: readRetriable,
        onRetry: async (err, attempt, delayMs) => {
          this.counters.retries++;
          this.o.logger.warn({ err, attempt, delayMs, partition: ctx.partition }, 'egress record retried');
          await ctx.heartbeat();
        },
      });
      if (r.stopped) return false;
      this.counters.handled++;
      return true;
    } catch (err) {
      this.o.logger.error({ err, offset: m.offset, partition: ctx.partition }, 'egress handler failed; to DLQ');
      const code = err instanceof IngressEgressError ? err.code : 'INTERNAL_ERROR';
      const reason = err instanceof Error ? err.message : 'unknown error';
      return this.retrying(ctx, () =>
        this.o.dlq.writeEvent(event, { code, reason, stage: 'handler' }, ctx).then(() => {
          this.counters.poison++;
        }),
      );
    }
  }

  private async decode(ctx: EgressContext, m: KafkaMessage): Promise<InternalEventV2 | 'poison' | 'left'> {
    try {
      // A retriable failure is the Schema Registry being unreachable: the bytes may be fine.
      const r = await this.o.retry.untilStopped(() => this.o.codec.decode(m.value ?? Buffer.alloc(0)), {
        signal: ctx.signal,
        clock: this.o.clock,
        retryable: readRetriable,
      });
      return r.stopped ? 'left' : r.value;
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'undecodable record';
      this.o.logger.warn({ partition: ctx.partition, offset: m.offset }, 'undecodable egress record; to DLQ');
      const ok = await this.retrying(ctx, () =>
        this.o.dlq
          .writeRaw(
            { key: m.key, value: m.value, headers: headersToStrings(m.headers) },
            { code: err instanceof IngressEgressError ? err.code : 'IE_ENVELOPE_DECODE', reason, stage: 'decode' },
            ctx,
          )
          .then(() => {
            this.counters.poison++;
          }),
      );
      return ok ? 'poison' : 'left';
    }
  }

  /** Runs `fn` until it succeeds; false if the consumer stopped first. */
  private async retrying(ctx: EgressContext, fn: () => Promise<void>): Promise<boolean> {
    const r = await this.o.retry.untilStopped(fn, {
      signal: ctx.signal,
      clock: this.o.clock,
      onRetry: (err, attempt) => this.o.logger.warn({ err, attempt }, 'egress DLQ write failed; retrying'),
    });
    return !r.stopped;
  }
}

/** A record's Kafka timestamp in ms, or undefined when it has none (-1) or it does not parse. */
function recordTime(m: KafkaMessage): number | undefined {
  const t = Number(m.timestamp);
  return Number.isFinite(t) && t >= 0 ? t : undefined;
}

/** The broker refused the consumer's session timeout (Kafka error INVALID_SESSION_TIMEOUT, code 26). */
function isSessionTimeoutRefused(err: unknown): boolean {
  type KafkaJsError = { type?: unknown; code?: unknown; cause?: unknown; originalError?: unknown } | undefined;
  const refused = (e: KafkaJsError) => e?.type === 'INVALID_SESSION_TIMEOUT' || e?.code === 26;
  const e = err as KafkaJsError;
  // kafkajs wraps a failure it retried in `originalError`.
  return refused(e) || refused(e?.originalError as KafkaJsError) || refused(e?.cause as KafkaJsError);
}
