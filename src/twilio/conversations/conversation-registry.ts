import type { Logger } from '../../observability';
import type { ConversationMessage, JoinedConversation } from './conversations-adapter';
import { ConversationTrack, type TrackDeps } from './conversation-track';

export interface ConversationRegistryOptions {
  /** What every conversation's track needs (publishing, fetching, checkpoints, back-off). */
  track: Omit<TrackDeps, 'fetchFailed'>;
  logger: Logger;
  /** Leaves a closed conversation once its messages are handled; absent: closed conversations are kept. */
  leave?: (conversationSid: string) => Promise<void>;
  /** Runs before leaving (the read horizons are flushed, so the checkpoint outlives the membership). */
  beforeLeave: () => Promise<unknown>;
}

/**
 * The conversations the session has joined, one ConversationTrack each:
 * created on the first sign of a conversation (joined, or a message), seeded
 * with its read horizon, backfilled on join and after a reconnect, and left
 * once closed and drained.
 */
export class ConversationRegistry {
  private readonly tracks = new Map<string, ConversationTrack>();
  private readonly leaving = new Set<string>();

  constructor(private readonly o: ConversationRegistryOptions) {}

  get size(): number {
    return this.tracks.size;
  }

  /** The last index handled per conversation (what the read horizon will say). */
  checkpoints(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [sid, t] of this.tracks) out[sid] = t.checkpoint;
    return out;
  }

  /** A conversation joined (or updated: then no backfill of a known one). */
  joined(c: JoinedConversation, backfill = true): void {
    const known = this.tracks.has(c.sid);
    const t = this.track(c.sid, c.lastReadMessageIndex);
    t.seed(c.lastReadMessageIndex);
    if (known && backfill) this.backfill(t);
    if (c.state === 'closed') this.leaveWhenDrained(t);
  }

  /** A message from the socket, handled in its conversation's order. */
  offer(m: ConversationMessage): void {
    this.track(m.conversationSid).offer(m);
  }

  /** After a reconnect: everything after each checkpoint again. */
  backfillAll(): void {
    for (const t of this.tracks.values()) this.backfill(t, true);
  }

  /** Resolves when no message is being handled (in flight ones finished). */
  async idle(): Promise<void> {
    await Promise.all([...this.tracks.values()].map((t) => t.idle()));
  }

  /** Resolves when every conversation drained its backfill and queue. */
  async settled(): Promise<void> {
    await Promise.all([...this.tracks.values()].map((t) => t.settled()));
  }

  private track(sid: string, checkpoint: number | null = null): ConversationTrack {
    let t = this.tracks.get(sid);
    if (t) return t;
    t = new ConversationTrack(sid, checkpoint, {
      ...this.o.track,
      fetchFailed: (conversationSid, err, attempt) =>
        this.o.logger.warn({ err, conversationSid, attempt }, 'Conversations backfill fetch failed; retrying'),
    });
    this.tracks.set(sid, t);
    this.backfill(t);
    return t;
  }

  private backfill(t: ConversationTrack, restart = false): void {
    t.backfill({ restart }).catch((err: unknown) =>
      this.o.logger.error({ err, conversationSid: t.sid }, 'Conversations backfill failed'),
    );
  }

  private leaveWhenDrained(t: ConversationTrack): void {
    const leave = this.o.leave;
    if (!leave || this.leaving.has(t.sid)) return;
    this.leaving.add(t.sid);
    void t
      .settled()
      .then(async () => {
        if (this.o.track.stopping()) return;
        await this.o.beforeLeave();
        await leave(t.sid);
        this.tracks.delete(t.sid);
        this.o.logger.info({ conversationSid: t.sid }, 'left closed conversation');
      })
      .catch((err: unknown) =>
        this.o.logger.warn({ err, conversationSid: t.sid }, 'could not leave closed conversation'),
      )
      .finally(() => this.leaving.delete(t.sid));
  }
}
