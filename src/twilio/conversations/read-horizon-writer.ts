import type { Logger } from '../../observability';
import type { Clock, ClockTimer } from '../../common/clock';
import { finishesWithin } from '../../common/deadline';

/**
 * Writes checkpoints (the identity's read horizon per conversation) without
 * one request per message: per conversation at most one write in flight and
 * at most one started per `minIntervalMs`; the latest index wins meanwhile. A
 * failed write is retried on a timer. The checkpoint only ever lags (by about
 * the interval), so a crash re-publishes a few messages with their same event
 * ids rather than losing any; stop() flushes without waiting for the interval.
 */
export class ReadHorizonWriter {
  private readonly pending = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly written = new Map<string, number>();
  private readonly timers = new Map<string, ClockTimer>();
  private stopped = false;
  private flushing = false;

  constructor(
    private readonly write: (conversationSid: string, index: number) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: { retryMs?: number; minIntervalMs?: number } = {},
  ) {}

  private readonly lastStart = new Map<string, number>();

  /** The last index Twilio acknowledged for `conversationSid`. */
  lastWritten(conversationSid: string): number | undefined {
    return this.written.get(conversationSid);
  }

  schedule(conversationSid: string, index: number): void {
    if (this.stopped) return;
    const current = this.pending.get(conversationSid) ?? this.written.get(conversationSid);
    if (current !== undefined && current >= index) return;
    this.pending.set(conversationSid, index);
    this.pumpWhenDue(conversationSid);
  }

  private pumpWhenDue(conversationSid: string): void {
    if (this.inflight.has(conversationSid) || this.timers.has(conversationSid)) return;
    const since = this.clock.now() - (this.lastStart.get(conversationSid) ?? -Infinity);
    const wait = (this.options.minIntervalMs ?? 0) - since;
    if (wait <= 0) return this.pump(conversationSid);
    this.timers.set(
      conversationSid,
      this.clock.setTimeout(() => {
        this.timers.delete(conversationSid);
        this.pumpWhenDue(conversationSid);
      }, wait),
    );
  }

  /** Waits (at most `timeoutMs`) for every scheduled write to be acknowledged. */
  async flush(timeoutMs: number): Promise<boolean> {
    this.flushing = true;
    try {
      return await this.flushWithin(timeoutMs);
    } finally {
      this.flushing = false;
    }
  }

  private async flushWithin(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      for (const [sid, t] of this.timers) {
        this.clock.clearTimeout(t);
        this.timers.delete(sid);
        if (!this.inflight.has(sid)) this.pump(sid);
      }
      const waiting = [...this.inflight.values()];
      if (waiting.length === 0) return true;
      const left = deadline - this.clock.now();
      if (left <= 0) return false;
      if (!(await finishesWithin(Promise.allSettled(waiting), left, this.clock))) return false;
    }
  }

  /** No new writes; pending retries are dropped (the checkpoint lags, it never skips). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  private pump(conversationSid: string): void {
    const index = this.pending.get(conversationSid);
    if (index === undefined) return;
    this.pending.delete(conversationSid);
    this.lastStart.set(conversationSid, this.clock.now());
    const p = this.write(conversationSid, index).then(
      () => {
        this.written.set(conversationSid, Math.max(index, this.written.get(conversationSid) ?? -1));
      },
      (err: unknown) => {
        const newer = this.pending.get(conversationSid);
        if (newer === undefined || newer < index) this.pending.set(conversationSid, index);
        this.logger.warn({ err, conversationSid, index }, 'could not record the Conversations checkpoint; will retry');
        if (!this.stopped && !this.timers.has(conversationSid)) {
          this.timers.set(
            conversationSid,
            this.clock.setTimeout(() => {
              this.timers.delete(conversationSid);
              if (!this.inflight.has(conversationSid)) this.pump(conversationSid);
            }, this.options.retryMs ?? 5000),
          );
        }
        return 'failed' as const;
      },
    );
    const tracked = p.then((outcome) => {
      this.inflight.delete(conversationSid);
      if (outcome === 'failed' || !this.pending.has(conversationSid)) return;
      if (this.flushing) this.pump(conversationSid);
      else this.pumpWhenDue(conversationSid);
    });
    this.inflight.set(conversationSid, tracked);
  }
}
