import type { Clock } from '../../common/clock';
import { RecentMap } from '../../common/recent-map';

export interface CallStatusTrackerOptions {
  /** Calls remembered at most (least recently updated forgotten first). */
  maxCalls: number;
  /** How long a call's latest status is remembered after its last callback. */
  ttlMs: number;
  clock: Pick<Clock, 'now'>;
}

interface Seen {
  sequence: number | undefined;
  rank: number;
}

/**
 * The latest status published per CallSid, so each voice.call.status event
 * can say whether it moves the call forward. Twilio numbers a call's status
 * callbacks (SequenceNumber, from 0): a higher number is later. Without
 * numbers on both sides the status rank decides. Memory is bounded (LRU +
 * TTL); a forgotten call's next callback counts as advancing.
 */
export class CallStatusTracker {
  private readonly latest: RecentMap<Seen>;

  constructor(options: CallStatusTrackerOptions) {
    this.latest = new RecentMap({ maxEntries: options.maxCalls, ttlMs: options.ttlMs, clock: options.clock });
  }

  advances(callSid: string, sequence: number | undefined, rank: number): boolean {
    const seen = this.latest.get(callSid);
    if (seen === undefined) return true;
    if (sequence !== undefined && seen.sequence !== undefined) return sequence > seen.sequence;
    return rank > seen.rank;
  }

  /** Records a status once its event is on Kafka (a failed publish must not make its own retry look late). */
  record(callSid: string, sequence: number | undefined, rank: number): void {
    const seen = this.latest.get(callSid);
    this.latest.set(callSid, {
      sequence:
        sequence === undefined
          ? seen?.sequence
          : seen?.sequence === undefined
            ? sequence
            : Math.max(sequence, seen.sequence),
      rank: Math.max(rank, seen?.rank ?? 0),
    });
  }

  get size(): number {
    return this.latest.size;
  }
}
