import type { EgressPriority } from '../envelope';
import { systemClock, type Clock } from '../common/clock';
import { TokenBucket } from './token-bucket';

export interface RateLimit {
  ratePerSec: number;
  burst: number;
}

export interface RateLimiterOptions {
  /** The whole account's send rate (TWILIO_RATE_LIMIT_PER_SEC / _BURST), shared by every instance. */
  account: RateLimit;
  /** Each sender number or messaging service; shared by every instance like the account limit. */
  sender: RateLimit;
  /** Each recipient (TWILIO_PER_NUMBER_RATE / _BURST); one recipient's records live on one partition, so one instance. */
  recipient: RateLimit;
  /**
   * The fraction (0..1] of the account limit that `bulk` sends may use together (EGRESS_BULK_RATE_SHARE):
   * they take a token of a per-account bulk bucket at that rate first. Default 1 (no separate limit).
   */
  bulkShare?: number;
  clock?: Clock;
  /** Called each time a caller had to wait, with the bucket that held it (metrics). */
  onHit?: (bucket: RateLimitBucket) => void;
  /**
   * Called with this instance's share of the shared limits: once at construction (1) and on every change
   * (`twilio_rate_limit_share`).
   */
  onShare?: (share: number) => void;
  /** Idle buckets are dropped once a map holds more than this many (per-recipient maps grow with the audience). */
  maxIdleBuckets?: number;
}

export type RateLimitBucket = 'account' | 'sender' | 'recipient' | 'bulk';

export interface RateLimitKeys {
  accountSid: string;
  /** The sender number or messaging service SID the message goes out from. */
  sender: string | undefined;
  recipient: string;
}

/**
 * Token buckets for the account, each sender and each recipient. A send takes
 * one token from each, recipient first (the narrowest), so a busy recipient
 * never holds account tokens while it waits. Waiting is the only answer: a
 * limit delays work and never drops it.
 *
 * Priorities (docs/egress.md, "Priority lanes"): an `urgent` send queues
 * ahead of every other waiter at each bucket, so it waits for the next token
 * at most; a `bulk` send first takes a token of its account's bulk bucket,
 * which refills at `bulkShare` of the account rate, so bulk traffic never
 * holds more than that share of the account's tokens.
 *
 * With several instances in one consumer group, each instance runs
 * `setShare(assigned / total partitions)` so that together they stay within
 * the account and sender limits.
 */
export class RateLimiter {
  private readonly clock: Clock;
  private readonly accounts = new Map<string, TokenBucket>();
  private readonly senders = new Map<string, TokenBucket>();
  private readonly recipients = new Map<string, TokenBucket>();
  private readonly bulk = new Map<string, TokenBucket>();
  private share = 1;
  private readonly maxIdle: number;
  private readonly sweepAt = new Map<Map<string, TokenBucket>, number>();

  constructor(private readonly options: RateLimiterOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxIdle = options.maxIdleBuckets ?? 10_000;
    options.onShare?.(this.share);
  }

  /** This instance's fraction (0..1] of the shared limits. */
  get currentShare(): number {
    return this.share;
  }

  setShare(share: number): void {
    const s = Math.min(1, Math.max(share, 1e-6));
    if (s === this.share) return;
    this.share = s;
    this.options.onShare?.(s);
    for (const b of this.accounts.values()) b.configure(...this.scaled(this.options.account));
    for (const b of this.senders.values()) b.configure(...this.scaled(this.options.sender));
    for (const b of this.bulk.values()) b.configure(...this.scaled(this.bulkLimit()));
  }

  /** Callers currently queued at any bucket, or at the bulk buckets only (the consumer pauses fetching while this is high). */
  waiting(only?: 'bulk'): number {
    let n = 0;
    const maps = only === 'bulk' ? [this.bulk] : [this.accounts, this.senders, this.recipients, this.bulk];
    for (const m of maps) for (const b of m.values()) n += b.waiting;
    return n;
  }

  /** Resolves when the send may go; true when it had to wait for any bucket. */
  async acquire(keys: RateLimitKeys, signal?: AbortSignal, priority: EgressPriority = 'normal'): Promise<boolean> {
    let waited = false;
    const urgent = { urgent: priority === 'urgent' };
    if (priority === 'bulk' && (this.options.bulkShare ?? 1) < 1) {
      const bulk = this.bucket(this.bulk, keys.accountSid, this.bulkLimit(), true);
      if (await bulk.take(signal)) {
        waited = true;
        this.options.onHit?.('bulk');
      }
    }
    const recipient = this.bucket(
      this.recipients,
      `${keys.accountSid}|${keys.recipient}`,
      this.options.recipient,
      false,
    );
    if (await recipient.take(signal, urgent)) {
      waited = true;
      this.options.onHit?.('recipient');
    }
    if (keys.sender !== undefined) {
      const sender = this.bucket(this.senders, `${keys.accountSid}|${keys.sender}`, this.options.sender, true);
      if (await sender.take(signal, urgent)) {
        waited = true;
        this.options.onHit?.('sender');
      }
    }
    const account = this.bucket(this.accounts, keys.accountSid, this.options.account, true);
    if (await account.take(signal, urgent)) {
      waited = true;
      this.options.onHit?.('account');
    }
    return waited;
  }

  private bulkLimit(): RateLimit {
    const share = this.options.bulkShare ?? 1;
    const { ratePerSec, burst } = this.options.account;
    return { ratePerSec: ratePerSec * share, burst: Math.max(1, Math.floor(burst * share)) };
  }

  private scaled(limit: RateLimit): [number, number] {
    return [limit.ratePerSec * this.share, Math.max(1, Math.floor(limit.burst * this.share))];
  }

  private bucket(map: Map<string, TokenBucket>, key: string, limit: RateLimit, shared: boolean): TokenBucket {
    let b = map.get(key);
    if (b) return b;
    if (map.size >= (this.sweepAt.get(map) ?? this.maxIdle)) this.sweep(map);
    const [ratePerSec, burst] = shared ? this.scaled(limit) : [limit.ratePerSec, limit.burst];
    b = new TokenBucket({ ratePerSec, burst, clock: this.clock });
    map.set(key, b);
    return b;
  }

  // A full bucket with nobody waiting is indistinguishable from a new one.
  private sweep(map: Map<string, TokenBucket>): void {
    for (const [k, b] of map) if (b.isIdle()) map.delete(k);
    // When most buckets are busy, sweeping on every insert would be quadratic: back off.
    this.sweepAt.set(map, Math.max(this.maxIdle, map.size * 2));
  }
}
