import type { Logger } from '../../observability';
import type { Clock, ClockTimer } from '../../resilience/clock';

/**
 * Writes checkpoints (the identity's read horizon per conversation) without
 * one request per message: at most one write in flight per conversation, and
 * the latest index wins while it is in flight. A failed write is retried on a
 * timer; the checkpoint only ever lags, so a crash re-publishes (same event
 * ids) rather than loses.
 */
export class ReadHorizonWriter {
  private readonly pending = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly written = new Map<string, number>();
  private readonly retryTimers = new Map<string, ClockTimer>();
  private stopped = false;

  constructor(
    private readonly write: (conversationSid: string, index: number) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly retryMs = 5000,
  ) {}

  /** The last index Twilio acknowledged for `conversationSid`. */
  lastWritten(conversationSid: string): number | undefined {
    return this.written.get(conversationSid);
  }

  schedule(conversationSid: string, index: number): void {
    if (this.stopped) return;
    const current = this.pending.get(conversationSid) ?? this.written.get(conversationSid);
    if (current !== undefined && current >= index) return;
    this.pending.set(conversationSid, index);
    if (!this.inflight.has(conversationSid)) this.pump(conversationSid);
  }

  /** Waits (at most `timeoutMs`) for every scheduled write to be acknowledged. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      for (const [sid, t] of this.retryTimers) {
        this.clock.clearTimeout(t);
        this.retryTimers.delete(sid);
        if (!this.inflight.has(sid)) this.pump(sid);
      }
      const waiting = [...this.inflight.values()];
      if (waiting.length === 0) return true;
      const left = deadline - this.clock.now();
      if (left <= 0) return false;
      let timer: ClockTimer | undefined;
      const timedOut = await Promise.race([
        Promise.allSettled(waiting).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = this.clock.setTimeout(() => resolve(true), left);
        }),
      ]);
      if (timer) this.clock.clearTimeout(timer);
      if (timedOut) return false;
    }
  }

  /** No new writes; pending retries are dropped (the checkpoint lags, it never skips). */
  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers.values()) this.clock.clearTimeout(t);
    this.retryTimers.clear();
  }

  private pump(conversationSid: string): void {
    const index = this.pending.get(conversationSid);
    if (index === undefined) return;
    this.pending.delete(conversationSid);
    const p = this.write(conversationSid, index).then(
      () => {
        this.written.set(conversationSid, Math.max(index, this.written.get(conversationSid) ?? -1));
      },
      (err: unknown) => {
        const newer = this.pending.get(conversationSid);
        if (newer === undefined || newer < index) this.pending.set(conversationSid, index);
        this.logger.warn({ err, conversationSid, index }, 'could not record the Conversations checkpoint; will retry');
        if (!this.stopped && !this.retryTimers.has(conversationSid)) {
          this.retryTimers.set(
            conversationSid,
            this.clock.setTimeout(() => {
              this.retryTimers.delete(conversationSid);
              if (!this.inflight.has(conversationSid)) this.pump(conversationSid);
            }, this.retryMs),
          );
        }
        return 'failed' as const;
      },
    );
    const tracked = p.then((outcome) => {
      this.inflight.delete(conversationSid);
      if (outcome !== 'failed' && this.pending.has(conversationSid)) this.pump(conversationSid);
    });
    this.inflight.set(conversationSid, tracked);
  }
}
