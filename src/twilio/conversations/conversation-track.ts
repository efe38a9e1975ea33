import type { ConversationMessage } from './conversations-adapter';

/**
 * Keeps one conversation's messages in index order on their way to Kafka.
 *
 * Messages are handled one at a time, so the checkpoint (the last index
 * handled) never passes a message that is not on Kafka yet. Live messages
 * that arrive while a backfill runs wait in a buffer and follow it, so a late
 * backfill page can never be skipped by an earlier live message. Anything at
 * or below what was already taken in (a Sync replay, a second
 * `conversationJoined`, an overlapping backfill) is dropped here.
 */
export interface TrackDeps {
  /** Publishes or deliberately skips one message; rejects only when the client is stopping. */
  handle(message: ConversationMessage): Promise<void>;
  /**
   * Messages after `afterIndex` (all of them), or the latest ones when null.
   * Must reject when `signal` aborts (the track gave up on this attempt).
   */
  fetchAfter(conversationSid: string, afterIndex: number | null, signal: AbortSignal): Promise<ConversationMessage[]>;
  /** Called after each message is handled, in index order. */
  checkpointed(conversationSid: string, index: number): void;
  /** Waits before retrying a failed fetch; resolves early when stopping. */
  backoff(attempt: number): Promise<void>;
  stopping(): boolean;
  fetchFailed(conversationSid: string, err: unknown, attempt: number): void;
}

export class ConversationTrack {
  private checkpointIndex: number | null;
  private highest: number | null = null;
  private buffer: ConversationMessage[] = [];
  private backfilling: Promise<void> | undefined;
  private again = false;
  private tail: Promise<void> = Promise.resolve();
  private halted = false;
  private attempt: AbortController | undefined;

  constructor(
    readonly sid: string,
    checkpoint: number | null,
    private readonly deps: TrackDeps,
  ) {
    this.checkpointIndex = checkpoint;
  }

  get checkpoint(): number | null {
    return this.checkpointIndex;
  }

  /** Raises the checkpoint from the durable read horizon (never lowers it). */
  seed(index: number | null): void {
    if (index === null) return;
    if (this.checkpointIndex === null || index > this.checkpointIndex) this.checkpointIndex = index;
  }

  /** A live message (SDK `messageAdded`). */
  offer(message: ConversationMessage): void {
    if (this.backfilling) this.buffer.push(message);
    else this.enqueue(message);
  }

  /**
   * Fetches everything after what was already taken in and queues it; calls
   * made while one runs make it go round once more (new pages may exist).
   * `restart` also abandons a fetch in flight: after a reconnect its request
   * may never be answered (the SDK does not fail requests of a socket it
   * closed itself), so it is asked again on the new connection.
   */
  backfill(options: { restart?: boolean } = {}): Promise<void> {
    if (this.backfilling) {
      this.again = true;
      if (options.restart) this.attempt?.abort();
      return this.backfilling;
    }
    this.backfilling = this.runBackfill().finally(() => {
      this.backfilling = undefined;
      const buffered = this.buffer.sort((a, b) => a.index - b.index);
      this.buffer = [];
      for (const m of buffered) this.enqueue(m);
    });
    return this.backfilling;
  }

  /** Resolves when every queued message is handled (or the queue stopped). */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Resolves when the running backfill (if any) and the queue are done. */
  async settled(): Promise<void> {
    while (this.backfilling) await this.backfilling;
    await this.tail;
  }

  private floor(): number | null {
    if (this.checkpointIndex === null) return this.highest;
    if (this.highest === null) return this.checkpointIndex;
    return Math.max(this.checkpointIndex, this.highest);
  }

  private enqueue(message: ConversationMessage): void {
    const floor = this.floor();
    if (floor !== null && message.index <= floor) return;
    this.highest = message.index;
    this.tail = this.tail.then(async () => {
      // Once a message could not be handled (stopping), nothing after it may
      // move the checkpoint: the queue halts and a restart backfills from here.
      if (this.halted) return;
      try {
        await this.deps.handle(message);
      } catch {
        this.halted = true;
        return;
      }
      if (this.checkpointIndex === null || message.index > this.checkpointIndex) this.checkpointIndex = message.index;
      this.deps.checkpointed(this.sid, message.index);
    });
  }

  private async runBackfill(): Promise<void> {
    do {
      this.again = false;
      let failures = 0;
      for (;;) {
        if (this.deps.stopping()) return;
        const attempt = new AbortController();
        this.attempt = attempt;
        try {
          const messages = await this.deps.fetchAfter(this.sid, this.floor(), attempt.signal);
          for (const m of messages.sort((a, b) => a.index - b.index)) this.enqueue(m);
          break;
        } catch (err) {
          // Abandoned on purpose (reconnect): ask again at once; that fresh
          // request also covers any backfill asked for meanwhile.
          if (attempt.signal.aborted) {
            this.again = false;
            continue;
          }
          failures++;
          this.deps.fetchFailed(this.sid, err, failures);
          await this.deps.backoff(failures);
        } finally {
          this.attempt = undefined;
        }
      }
    } while (this.again && !this.deps.stopping());
  }
}
