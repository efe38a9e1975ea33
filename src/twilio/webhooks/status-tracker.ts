import type { NowMs } from './delivery-deduplicator';

export interface StatusTrackerOptions {
  /** Messages remembered at most; the least recently updated are forgotten first. */
  maxMessages: number;
  /** How long a message's highest status is remembered after its last callback. */
  ttlMs: number;
  now: NowMs;
}

/**
 * The highest status rank published per MessageSid, so each status event can
 * say whether it moves the message forward. Memory is bounded (LRU + TTL): a
 * forgotten message's next callback simply counts as advancing, which is what
 * a consumer without history would conclude too.
 */
export class StatusTracker {
  // Map order is recency order: an update re-inserts the key at the end.
  private readonly highest = new Map<string, { rank: number; at: number }>();
  private lastSweep = 0;

  constructor(private readonly options: StatusTrackerOptions) {}

  /** Whether a status of this rank would advance the message (nothing is recorded). */
  advances(messageSid: string, rank: number): boolean {
    const seen = this.highest.get(messageSid);
    if (!seen || this.options.now() - seen.at >= this.options.ttlMs) return true;
    return rank > seen.rank;
  }

  /**
   * Records a status once its event is on Kafka. Recording only after the ack
   * keeps a failed publish from marking its own retry as "late".
   */
  record(messageSid: string, rank: number): void {
    const now = this.options.now();
    const seen = this.highest.get(messageSid);
    const live = seen !== undefined && now - seen.at < this.options.ttlMs;
    this.highest.delete(messageSid);
    this.highest.set(messageSid, { rank: live ? Math.max(seen.rank, rank) : rank, at: now });
    // Lookups check the TTL themselves; sweeping is for memory, so only when over size or now and then.
    if (this.highest.size > this.options.maxMessages || now - this.lastSweep >= this.options.ttlMs / 10) {
      this.evict(now);
    }
  }

  get size(): number {
    return this.highest.size;
  }

  private evict(now: number): void {
    this.lastSweep = now;
    for (const [sid, entry] of this.highest) {
      if (this.highest.size <= this.options.maxMessages && now - entry.at < this.options.ttlMs) break;
      this.highest.delete(sid);
    }
  }
}
