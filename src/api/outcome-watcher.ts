import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Lifecycle, type LifecycleState } from '../common/lifecycle';
import { RecentMap } from '../common/recent-map';
import type { InternalEventV2 } from '../envelope';
import { createStoppableConsumer } from '../kafka/stoppable-consumer';
import type { Logger } from '../observability';
import { systemClock, type Clock } from '../common/clock';

/** One outcome of a request as the API reports it. */
export interface RequestOutcome {
  type: 'accepted' | 'rejected' | 'failed' | 'canceled' | 'summary';
  eventId: string;
  occurredAt: string;
  to?: string | undefined;
  messageSid?: string | undefined;
  status?: string | undefined;
  code?: string | undefined;
  reason?: string | undefined;
  twilioErrorCode?: number | undefined;
  deduplicated?: boolean | undefined;
  total?: number | undefined;
  accepted?: number | undefined;
  rejected?: number | undefined;
  failed?: number | undefined;
}

/** Outcomes kept per request (a bulk request's summary is always kept). */
const MAX_OUTCOMES_PER_REQUEST = 100;

/** What ends a wait: a single request's first outcome, or a bulk request's summary (or its refusal as a whole). */
export type WaitKind = 'single' | 'bulk';

function terminal(kind: WaitKind, o: RequestOutcome): boolean {
  if (kind === 'bulk') return o.type === 'summary' || (o.type === 'rejected' && o.to === undefined);
  return o.type !== 'summary';
}

/** The outcome an `sms.outcomes` envelope reports, or undefined for anything else. */
export function outcomeOf(event: InternalEventV2): { requestId: string; outcome: RequestOutcome } | undefined {
  const base = { eventId: event.id, occurredAt: event.occurredAt };
  switch (event.type) {
    case 'sms.outbound.accepted': {
      const d = event.data;
      const outcome: RequestOutcome = {
        ...base,
        type: 'accepted',
        to: d.to,
        messageSid: d.messageSid,
        status: d.status,
        deduplicated: d.deduplicated,
      };
      return { requestId: d.requestId, outcome };
    }
    case 'sms.outbound.rejected':
    case 'sms.outbound.failed': {
      const d = event.data;
      const outcome: RequestOutcome = {
        ...base,
        type: event.type === 'sms.outbound.rejected' ? 'rejected' : 'failed',
        to: d.to,
        code: d.code,
        reason: d.reason,
        twilioErrorCode: d.twilioErrorCode,
      };
      return { requestId: d.requestId, outcome };
    }
    case 'sms.outbound.canceled':
      return {
        requestId: event.data.requestId,
        outcome: { ...base, type: 'canceled', messageSid: event.data.messageSid, status: event.data.status },
      };
    case 'sms.outbound.summary': {
      const d = event.data;
      const outcome: RequestOutcome = {
        ...base,
        type: 'summary',
        total: d.total,
        accepted: d.accepted,
        rejected: d.rejected,
        failed: d.failed,
      };
      return { requestId: d.requestId, outcome };
    }
    default:
      return undefined;
  }
}

export interface OutcomeWatcherOptions {
  kafka: Kafka;
  topic: string;
  decode: (value: Buffer) => Promise<InternalEventV2>;
  logger: Logger;
  /** Prefix of the per-start consumer group (a fresh id each start; nothing is committed). */
  groupIdPrefix: string;
  clock?: Clock;
  /** Requests remembered (default 100,000) and for how long (default 24 h). */
  maxRequests?: number;
  ttlMs?: number;
}

/**
 * Follows `sms.outcomes` from the moment it starts (a group of its own per
 * start, never committing) and remembers recent requests' outcomes, so the
 * API can answer `?wait` and `GET /api/requests/{id}` without a Kafka client
 * of the caller's. Outcomes published before it started are not seen.
 */
export class OutcomeWatcher {
  private readonly outcomes: RecentMap<RequestOutcome[]>;
  private readonly waiters = new Map<string, Set<(o: RequestOutcome) => void>>();
  private consumer: Consumer | undefined;
  private joined = false;
  private readonly clock: Clock;
  private readonly lifecycle = new Lifecycle(
    'OutcomeWatcher',
    () => this.doStart(),
    () => this.doStop(),
  );

  constructor(private readonly options: OutcomeWatcherOptions) {
    this.clock = options.clock ?? systemClock;
    this.outcomes = new RecentMap({
      maxEntries: options.maxRequests ?? 100_000,
      ttlMs: options.ttlMs ?? 24 * 3600_000,
      clock: this.clock,
    });
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** True once the consumer joined its group (outcomes from then on are seen). */
  get ready(): boolean {
    return this.joined;
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** The outcomes seen for a request, oldest first. */
  outcomesOf(requestId: string): RequestOutcome[] {
    return this.outcomes.get(requestId) ?? [];
  }

  /**
   * Resolves with the request's terminal outcome (already seen or arriving
   * within `timeoutMs`), or undefined when none came in time.
   */
  waitFor(requestId: string, kind: WaitKind, timeoutMs: number): Promise<RequestOutcome | undefined> {
    const seen = this.outcomesOf(requestId).find((o) => terminal(kind, o));
    if (seen || timeoutMs <= 0) return Promise.resolve(seen);
    return new Promise((resolve) => {
      let set = this.waiters.get(requestId);
      if (!set) this.waiters.set(requestId, (set = new Set()));
      const waiters = set;
      const done = (o: RequestOutcome | undefined) => {
        this.clock.clearTimeout(timer);
        waiters.delete(listener);
        if (waiters.size === 0) this.waiters.delete(requestId);
        resolve(o);
      };
      const listener = (o: RequestOutcome) => {
        if (terminal(kind, o)) done(o);
      };
      const timer = this.clock.setTimeout(() => done(undefined), timeoutMs);
      waiters.add(listener);
    });
  }

  /** Records one outcome envelope (the consumer calls this; tests may too). */
  record(event: InternalEventV2): void {
    const found = outcomeOf(event);
    if (!found) return;
    const list = this.outcomes.get(found.requestId) ?? [];
    if (list.some((o) => o.eventId === found.outcome.eventId)) return; // a redelivered outcome
    if (list.length < MAX_OUTCOMES_PER_REQUEST || found.outcome.type === 'summary') list.push(found.outcome);
    this.outcomes.set(found.requestId, list);
    for (const w of [...(this.waiters.get(found.requestId) ?? [])]) w(found.outcome);
  }

  private async doStart(): Promise<void> {
    const consumer = createStoppableConsumer(this.options.kafka, {
      groupId: `${this.options.groupIdPrefix}-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!message.value) continue;
      try {
        this.record(await this.options.decode(message.value));
      } catch (err) {
        this.options.logger.warn({ err, offset: message.offset }, 'an outcome record could not be decoded; skipped');
      }
    }
    await heartbeat();
  }

  private async doStop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    await consumer
      ?.disconnect()
      .catch((err: unknown) => this.options.logger.warn({ err }, 'outcome consumer did not stop cleanly'));
  }
}
