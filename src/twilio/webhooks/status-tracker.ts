import type { Clock } from '../../common/clock';
import { RecentMap } from '../../common/recent-map';

export interface StatusTrackerOptions {
  /** Messages remembered at most (at least the most recently updated half are kept); the least recently updated are forgotten first. */
  maxMessages: number;
  /** How long a message's highest status is remembered after its last callback. */
  ttlMs: number;
  clock: Pick<Clock, 'now'>;
}

/**
 * The highest status rank published per MessageSid, so each status event can
 * say whether it moves the message forward. Memory is bounded (LRU + TTL): a
 * forgotten message's next callback simply counts as advancing, which is what
 * a consumer without history would conclude too.
 */
export class StatusTracker {
  private readonly highest: RecentMap<number>;

  constructor(options: StatusTrackerOptions) {
    this.highest = new RecentMap({ maxEntries: options.maxMessages, ttlMs: options.ttlMs, clock: options.clock });
  }

  /** Whether a status of this rank would advance the message (nothing is recorded). */
  advances(messageSid: string, rank: number): boolean {
    const seen = this.highest.get(messageSid);
    return seen === undefined || rank > seen;
  }

  /**
   * Records a status once its event is on Kafka. Recording only after the ack
   * keeps a failed publish from marking its own retry as "late".
   */
  record(messageSid: string, rank: number): void {
    const seen = this.highest.get(messageSid);
    this.highest.set(messageSid, seen === undefined ? rank : Math.max(seen, rank));
  }

  /** Messages held, expired ones included until they are dropped. */
  get size(): number {
    return this.highest.size;
  }
}
