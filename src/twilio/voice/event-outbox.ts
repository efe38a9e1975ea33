import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open, rename, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../../common/clock';
import { Lifecycle } from '../../common/lifecycle';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import { parseEnvelope, type InternalEventV2 } from '../../envelope';
import { IngressEgressError } from '../../errors';
import { activeTraceContext, withTraceContext, type Logger, type TraceContext } from '../../observability';

/** One event kept in the outbox: its place in the log and when it was written (for the Kafka check). */
export interface OutboxEntry {
  seq: number;
  appendedAtMs: number;
  event: InternalEventV2;
  /** The trace of the request that appended it (in memory only: an entry recovered from disk has none). */
  trace?: TraceContext;
}

/**
 * Which of these entries' events are already on Kafka (by id). Asked before
 * publishing again after a restart or an attempt whose result is unknown, so
 * a record Kafka wrote but never acknowledged is not written twice.
 */
export type PublishedCheck = (entries: readonly OutboxEntry[]) => Promise<ReadonlySet<string>>;

export interface OutboxMetrics {
  /** Entries written but not yet acknowledged by Kafka. */
  setPending(n: number): void;
  /** A publish attempt that failed (the entries stay and are retried). */
  publishFailed(): void;
  /** Seconds from append to Kafka's acknowledgement. */
  published(seconds: number): void;
}

export interface EventOutboxOptions {
  /** Directory of the log segments and the acknowledged cursor (created if missing). */
  dir: string;
  publisher: EventPublisherPort;
  logger: Logger;
  metrics?: OutboxMetrics;
  alreadyPublished?: PublishedCheck;
  /** Entries published per round (default 500). */
  maxBatch?: number;
  /** Back-off after a failed round, doubling up to `maxRetryMs` (defaults 100 ms, 5 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** A segment is closed and a new one started beyond this size (default 8 MiB). */
  segmentBytes?: number;
  clock?: Pick<Clock, 'now'>;
}

const SEGMENT = /^segment-(\d{16})\.jsonl$/;
const CURSOR_FILE = 'acked';
const LOCK_FILE = 'owner.pid';

interface WriteRequest {
  event: InternalEventV2;
  trace: TraceContext;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A durable, append-only outbox in front of Kafka: `append` resolves once the
 * event is on disk (fdatasync), so a caller may answer before Kafka
 * acknowledges and the event still survives a SIGKILL. Entries are published
 * in append order with their own (deterministic) ids as soon as Kafka takes
 * them, retried until it does, and counted acknowledged only then.
 *
 * On disk: `segment-<first seq>.jsonl` files of `{"s":seq,"t":ms,"e":envelope}`
 * lines and `acked`, the highest sequence number below which everything is
 * acknowledged. Appends that arrive together share one write and one
 * fdatasync (group commit). The cursor is written after each round without
 * fsync: after a crash it may lag, and the entries it did not cover are then
 * checked against Kafka (`alreadyPublished`) before they are published again.
 */
export class EventOutbox {
  private readonly dir: string;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly maxBatch: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly segmentBytes: number;
  private readonly lifecycle = new Lifecycle(
    'EventOutbox',
    () => this.doStart(),
    () => this.doStop(),
  );

  /** Written, not yet acknowledged, in sequence order. */
  private queue: OutboxEntry[] = [];
  private readonly acked = new Set<number>();
  private writes: WriteRequest[] = [];
  private flushing: Promise<void> | undefined;
  private segment: FileHandle | undefined;
  private segmentSize = 0;
  private lastSeq = 0;
  private cursor = 0;
  private writtenCursor = 0;
  private needsCheck = false;
  private draining: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopping = false;

  constructor(private readonly options: EventOutboxOptions) {
    this.dir = options.dir;
    this.clock = options.clock ?? systemClock;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryMs = options.retryMs ?? 100;
    this.maxRetryMs = options.maxRetryMs ?? 5_000;
    this.segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** Entries not yet acknowledged by Kafka (written ones; those being written are not counted). */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once the event is durably on disk; it is published to Kafka afterwards. */
  append(event: InternalEventV2): Promise<void> {
    // Appends keep working while the outbox stops (calls still come in during a shutdown): what is not
    // published by then is on disk for the next start.
    if (!this.segment) {
      return Promise.reject(new IngressEgressError('IE_LIFECYCLE', 'the voice outbox is not running'));
    }
    return new Promise<void>((resolve, reject) => {
      this.writes.push({ event, trace: activeTraceContext(), resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Publishing starts again at once (e.g. when Kafka is back) instead of after the back-off. */
  poke(): void {
    this.wake?.();
  }

  private async doStart(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.takeLock();
    this.recover();
    await this.openSegment();
    this.needsCheck = this.queue.length > 0;
    this.options.metrics?.setPending(this.queue.length);
    if (this.queue.length > 0) {
      this.options.logger.info(
        { pending: this.queue.length },
        'voice outbox: publishing events written before the last stop',
      );
    }
    this.kick();
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    // Publish what Kafka takes now; a round that fails ends the drain (the rest waits on disk).
    this.wake?.();
    await this.draining;
    // Writes already accepted finish (their callers are waiting for the fsync), then the segment closes.
    while (this.flushing) await this.flushing;
    const segment = this.segment;
    this.segment = undefined;
    await segment?.close();
    await this.writeCursor();
    this.releaseLock();
    if (this.queue.length > 0) {
      this.options.logger.warn(
        { pending: this.queue.length },
        'voice outbox: stopped with events not yet on Kafka; they are published at the next start',
      );
    }
  }

  /**
   * One process per directory: two would write the same segment names. The
   * owner's pid is in `owner.pid`; a dead owner's (a crash, a SIGKILL) lock
   * is taken over.
   */
  private takeLock(): void {
    const file = path.join(this.dir, LOCK_FILE);
    const owner = Number(readIfExists(file)?.trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new IngressEgressError(
        'IE_CONFIG_INVALID',
        `VOICE_OUTBOX_DIR ${this.dir} is in use by another process (pid ${owner}); give each instance its own directory`,
      );
    }
    writeFileSync(file, String(process.pid));
  }

  private releaseLock(): void {
    try {
      unlinkSync(path.join(this.dir, LOCK_FILE));
    } catch {
      // already gone
    }
  }

  /** Reads every segment: entries after the cursor are pending. A torn last line (a crash mid-write) is skipped. */
  private recover(): void {
    const cursorText = readIfExists(path.join(this.dir, CURSOR_FILE));
    this.cursor = cursorText !== undefined && /^\d+$/.test(cursorText.trim()) ? Number(cursorText.trim()) : 0;
    this.writtenCursor = this.cursor;
    this.lastSeq = this.cursor;
    for (const file of this.segmentFiles()) {
      const text = readFileSync(path.join(this.dir, file), 'utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const entry = parseLine(line);
        if (!entry) {
          this.options.logger.warn({ file }, 'voice outbox: skipped an unreadable line (torn write)');
          continue;
        }
        this.lastSeq = Math.max(this.lastSeq, entry.seq);
        if (entry.seq > this.cursor) this.queue.push(entry);
      }
    }
    this.queue.sort((a, b) => a.seq - b.seq);
    this.dropAckedSegments();
  }

  private segmentFiles(): string[] {
    return readdirSync(this.dir)
      .filter((f) => SEGMENT.test(f))
      .sort();
  }

  /** A fresh segment for this run: appends never land after a torn line of an earlier one. */
  private async openSegment(): Promise<void> {
    const name = `segment-${String(this.lastSeq + 1).padStart(16, '0')}.jsonl`;
    this.segment = await open(path.join(this.dir, name), 'a');
    this.segmentSize = 0;
    // The new file's directory entry must survive a power loss too.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.writes.length > 0) {
        const batch = this.writes;
        this.writes = [];
        const appendedAtMs = this.clock.now();
        const entries = batch.map((w) => ({ seq: ++this.lastSeq, appendedAtMs, event: w.event, trace: w.trace }));
        const text = entries.map((e) => `${JSON.stringify({ s: e.seq, t: e.appendedAtMs, e: e.event })}\n`).join('');
        try {
          const segment = this.segment;
          if (!segment) throw new IngressEgressError('IE_LIFECYCLE', 'the voice outbox is not running');
          const bytes = Buffer.from(text, 'utf8');
          await segment.write(bytes);
          await segment.datasync();
          this.segmentSize += bytes.length;
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          for (const w of batch) w.reject(error);
          continue;
        }
        this.queue.push(...entries);
        this.options.metrics?.setPending(this.queue.length);
        for (const w of batch) w.resolve();
        this.kick();
        if (this.segmentSize >= this.segmentBytes) {
          await this.segment?.close();
          await this.openSegment();
          this.dropAckedSegments();
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private kick(): void {
    if (this.draining) {
      this.wake?.();
      return;
    }
    if (this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // Entries written while the last round finished.
      if (!this.stopping && this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let backoff = this.retryMs;
    while (this.queue.length > 0) {
      if (this.stopping && !this.options.publisher.isReady()) return;
      if (!this.options.publisher.isReady()) {
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, this.maxRetryMs);
        continue;
      }
      const ok = await this.round();
      await this.writeCursor();
      if (ok) {
        backoff = this.retryMs;
      } else {
        if (this.stopping) return;
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, this.maxRetryMs);
      }
    }
  }

  /** One round: check Kafka when an earlier attempt's result is unknown, then publish a batch in order. */
  private async round(): Promise<boolean> {
    let batch = this.queue.slice(0, this.maxBatch);
    if (this.needsCheck && this.options.alreadyPublished) {
      let found: ReadonlySet<string>;
      try {
        found = await this.options.alreadyPublished(batch);
      } catch (err) {
        this.options.logger.warn({ err }, 'voice outbox: could not check Kafka for events already written; retrying');
        return false;
      }
      for (const e of batch) if (found.has(e.event.id)) this.acked.add(e.seq);
      if (found.size > 0) {
        this.options.logger.info(
          { found: found.size },
          'voice outbox: events already on Kafka from an earlier attempt are not written again',
        );
      }
      this.settle();
      batch = this.queue.slice(0, this.maxBatch);
      if (batch.length === 0) {
        this.needsCheck = false;
        return true;
      }
    }
    // Published in order: the publisher keeps call order within a key, and every batch starts at the oldest entry.
    // Each publish in the trace of the call that appended it (not in the context of whatever started this round,
    // which would put a whole batch in the first call's trace).
    const results = await Promise.allSettled(
      batch.map((e) => withTraceContext(e.trace, () => this.options.publisher.publish(e.event))),
    );
    let failed = 0;
    let firstError: unknown;
    const now = this.clock.now();
    results.forEach((r, i) => {
      const entry = batch[i]!;
      if (r.status === 'fulfilled') {
        this.acked.add(entry.seq);
        this.options.metrics?.published((now - entry.appendedAtMs) / 1000);
      } else {
        failed++;
        firstError ??= r.reason;
      }
    });
    this.settle();
    if (failed > 0) {
      // A failed attempt may still have been written: check before the next one.
      this.needsCheck = true;
      this.options.metrics?.publishFailed();
      this.options.logger.warn(
        { err: firstError, failed, pending: this.queue.length },
        'voice outbox: Kafka did not acknowledge; the events stay in the outbox and are retried',
      );
      return false;
    }
    this.needsCheck = false;
    return true;
  }

  /** Drops acknowledged entries and moves the cursor over the acknowledged prefix. */
  private settle(): void {
    this.queue = this.queue.filter((e) => !this.acked.has(e.seq));
    this.acked.clear();
    this.cursor = this.queue.length > 0 ? this.queue[0]!.seq - 1 : this.lastSeq;
    this.options.metrics?.setPending(this.queue.length);
  }

  private async writeCursor(): Promise<void> {
    if (this.cursor === this.writtenCursor) return;
    const cursor = this.cursor;
    const tmp = path.join(this.dir, `${CURSOR_FILE}.tmp`);
    await writeFile(tmp, String(cursor));
    await rename(tmp, path.join(this.dir, CURSOR_FILE));
    this.writtenCursor = cursor;
    this.dropAckedSegments();
  }

  /** Deletes segments every entry of which is acknowledged (never the one being written). */
  private dropAckedSegments(): void {
    const files = this.segmentFiles();
    for (let i = 0; i < files.length - 1; i++) {
      // Everything in file i is below the first seq of file i+1.
      const nextFirst = Number(SEGMENT.exec(files[i + 1]!)![1]);
      if (nextFirst - 1 <= this.writtenCursor) {
        try {
          unlinkSync(path.join(this.dir, files[i]!));
        } catch {
          // already gone
        }
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseLine(line: string): OutboxEntry | undefined {
  try {
    const raw = JSON.parse(line) as { s?: unknown; t?: unknown; e?: unknown };
    if (typeof raw.s !== 'number' || typeof raw.t !== 'number') return undefined;
    return { seq: raw.s, appendedAtMs: raw.t, event: parseEnvelope(raw.e) };
  } catch {
    return undefined;
  }
}
