import type { Message } from 'kafkajs';
import type { PublishedRecord } from '../connector/event-publisher-port';

export interface OutgoingRecord {
  topic: string;
  message: Message;
}

/**
 * Sends one batch; resolves with one result per record, in order (an Error for a record that alone failed),
 * or rejects for the whole batch.
 */
export type SendBatch = (records: readonly OutgoingRecord[]) => Promise<(PublishedRecord | Error)[]>;

export interface ProduceBatcherOptions {
  send: SendBatch;
  /** Most records per send. */
  maxBatchRecords: number;
  /** How long the first record of a batch waits for company; 0 = until the current turn of the event loop ends. */
  lingerMs: number;
  /** Records waiting (not yet sent) beyond which add() fails at once: back-pressure instead of unbounded memory. */
  maxQueuedRecords: number;
  /** Per-record deadline from add() to acknowledgement. */
  timeoutMs: number;
  /** The error a record gets at its deadline; `sent` says whether it may still be written. */
  timeoutError: (sent: boolean, timeoutMs: number) => Error;
  /** The error add() throws when the queue is full. */
  overflowError: (queued: number) => Error;
  /** Monotonic milliseconds. */
  now: () => number;
}

// A class, not a spread object literal: one stable shape, cheap to allocate at ~100k records/s.
class Entry implements OutgoingRecord {
  sent = false;
  done = false;
  constructor(
    readonly topic: string,
    readonly message: OutgoingRecord['message'],
    readonly deadline: number,
    readonly resolve: (r: PublishedRecord) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

/**
 * Coalesces concurrent publishes into batches, one batch in flight at a time.
 * One in flight is not only simpler: with kafkajs's idempotent producer, a
 * second concurrent batch can take sequence numbers a failed first batch hands
 * back, which the broker may then drop as duplicates. Batches of ~1000 records
 * reach the throughput of a raw producer; one record per send cannot.
 *
 * Deadlines are checked by one timer armed for the oldest live record: records
 * leave in the order they arrived, so the expired ones are always a prefix.
 */
export class ProduceBatcher {
  private queue: Entry[] = [];
  private inFlight: Entry[] = [];
  private sending = false;
  private paused = false;
  /** Set by drain(): no more waiting for company, send what is there. */
  private draining = false;
  private staleQueued = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lingerImmediate: NodeJS.Immediate | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt = Infinity;
  private drainWaiters: (() => void)[] = [];
  private sendWaiters: (() => void)[] = [];

  constructor(private readonly options: ProduceBatcherOptions) {}

  /** Records waiting to be sent (excluding expired ones). */
  get queued(): number {
    return this.queue.length - this.staleQueued;
  }

  get sendingBatch(): boolean {
    return this.sending;
  }

  /** Records of the batch in flight still waiting for their acknowledgement. */
  get unacknowledgedInFlight(): number {
    return this.inFlight.filter((e) => !e.done).length;
  }

  add(record: OutgoingRecord): Promise<PublishedRecord> {
    if (this.queued >= this.options.maxQueuedRecords) {
      return Promise.reject(this.options.overflowError(this.queued));
    }
    return new Promise<PublishedRecord>((resolve, reject) => {
      const deadline = this.options.now() + this.options.timeoutMs;
      const entry = new Entry(record.topic, record.message, deadline, resolve, reject);
      this.queue.push(entry);
      this.armDeadline(entry.deadline);
      this.schedule();
    });
  }

  /** Stops sending new batches (the one in flight finishes); records keep queueing until their deadline. */
  pause(): void {
    this.paused = true;
    this.clearLinger();
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  /** Rejects every record not yet sent. */
  failQueued(error: Error): number {
    const queue = this.queue;
    this.queue = [];
    this.staleQueued = 0;
    this.clearLinger();
    for (const e of queue) this.settle(e, undefined, error);
    this.notifyIdle();
    return queue.length;
  }

  /** Resumes and sends everything queued without lingering; resolves like whenDrained(). */
  drain(): Promise<void> {
    this.draining = true;
    this.paused = false;
    this.schedule();
    return this.whenDrained();
  }

  /** Resolves when nothing is queued or in flight (or only paused records wait). */
  whenDrained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** When the oldest record still waiting for its acknowledgement (in flight or queued) was added; undefined if none. */
  oldestPendingSince(): number | undefined {
    const first = this.inFlight.find((e) => !e.done) ?? this.queue.find((e) => !e.done);
    return first === undefined ? undefined : first.deadline - this.options.timeoutMs;
  }

  /** Resolves when no batch is in flight. */
  whenNotSending(): Promise<void> {
    if (!this.sending) return Promise.resolve();
    return new Promise((resolve) => this.sendWaiters.push(resolve));
  }

  /** Clears timers; call after failQueued() when the owner shuts down. */
  close(): void {
    this.clearLinger();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
  }

  private isDrained(): boolean {
    return !this.sending && (this.queued === 0 || this.paused);
  }

  private schedule(): void {
    if (this.sending || this.paused || this.queued === 0) return;
    if (this.draining || this.queued >= this.options.maxBatchRecords) {
      this.flush();
      return;
    }
    if (this.lingerTimer || this.lingerImmediate) return;
    if (this.options.lingerMs > 0) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flush();
      }, this.options.lingerMs);
    } else {
      this.lingerImmediate = setImmediate(() => {
        this.lingerImmediate = undefined;
        this.flush();
      });
    }
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    if (this.lingerImmediate) clearImmediate(this.lingerImmediate);
    this.lingerTimer = undefined;
    this.lingerImmediate = undefined;
  }

  private flush(): void {
    this.clearLinger();
    if (this.sending || this.paused) return;
    const batch: Entry[] = [];
    let taken = 0;
    while (taken < this.queue.length && batch.length < this.options.maxBatchRecords) {
      const e = this.queue[taken++]!;
      if (e.done) this.staleQueued--;
      else batch.push(e);
    }
    this.queue.splice(0, taken);
    if (batch.length === 0) {
      this.notifyIdle();
      return;
    }
    this.sending = true;
    this.inFlight = batch;
    for (const e of batch) e.sent = true;
    let send: Promise<(PublishedRecord | Error)[]>;
    try {
      send = this.options.send(batch);
    } catch (err) {
      send = Promise.reject(err);
    }
    send
      .then(
        (results) => {
          if (results.length !== batch.length) {
            throw new Error(`send returned ${results.length} results for ${batch.length} records`);
          }
          batch.forEach((e, i) => {
            const r = results[i]!;
            if (r instanceof Error) this.settle(e, undefined, r);
            else this.settle(e, r);
          });
        },
        (err: unknown) => {
          for (const e of batch) this.settle(e, undefined, err);
        },
      )
      .catch((err: unknown) => {
        for (const e of batch) this.settle(e, undefined, err);
      })
      .finally(() => {
        this.sending = false;
        this.inFlight = [];
        this.notifyIdle();
        this.schedule();
      });
  }

  private settle(e: Entry, result: PublishedRecord | undefined, error?: unknown): void {
    if (e.done) return;
    e.done = true;
    if (result) e.resolve(result);
    else e.reject(error);
  }

  private armDeadline(at: number): void {
    if (at >= this.deadlineAt) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, at - this.options.now()));
    // Pending records keep the process alive through their sockets; the deadline alone must not.
    this.deadlineTimer.unref();
  }

  private expire(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    const now = this.options.now();
    const { timeoutError, timeoutMs } = this.options;
    for (const e of this.inFlight) {
      if (e.done) continue;
      if (e.deadline > now) return this.armDeadline(e.deadline);
      this.settle(e, undefined, timeoutError(true, timeoutMs));
    }
    for (const e of this.queue) {
      if (e.done) continue;
      if (e.deadline > now) {
        this.compact();
        return this.armDeadline(e.deadline);
      }
      this.settle(e, undefined, timeoutError(false, timeoutMs));
      this.staleQueued++;
    }
    this.compact();
    this.notifyIdle();
  }

  // Expired records stay in the queue until taken; drop them when they are most of it.
  private compact(): void {
    if (this.staleQueued > 64 && this.staleQueued * 2 > this.queue.length) {
      this.queue = this.queue.filter((e) => !e.done);
      this.staleQueued = 0;
    }
  }

  private notifyIdle(): void {
    if (!this.sending && this.sendWaiters.length > 0) {
      const waiters = this.sendWaiters;
      this.sendWaiters = [];
      for (const w of waiters) w();
    }
    if (this.isDrained() && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }
}
