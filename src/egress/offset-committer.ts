import type { Consumer } from 'kafkajs';
import type { Logger, Metrics } from '../observability';
import { coordinatorGone } from '../kafka/kafka-errors';
import { raceDeadline } from '../common/deadline';

export interface OffsetCommitterOptions {
  topic: string;
  /**
   * The live consumer: undefined while the one of the moment is being replaced (after a fatal crash or a lost
   * coordinator). kafkajs resolves a commit through a consumer whose runner has stopped without sending it, so such
   * a commit must not be made, let alone counted.
   */
  consumer: () => Consumer | undefined;
  /** A commit not answered within this is given up (logged), so the partition's next commits go on. Default 10 s. */
  commitTimeoutMs?: number;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** A commit failed because the group coordinator's broker is gone: a new consumer looks it up afresh. */
  onCoordinatorGone: (err: unknown) => void;
}

/**
 * Commits finished offsets of the egress topic: per partition in order and
 * never backwards (a late commit of an older offset is skipped), updating the
 * consumer-lag gauge at each commit and, through refreshLag, from the topic's high watermarks while nothing is
 * committed (a stalled consumer would otherwise show the lag of its last commit for ever). A failed commit is logged and left: the records are
 * redelivered to whoever owns the partition, and the send ledger answers them.
 */
export class OffsetCommitter {
  private readonly committed = new Map<number, bigint>();
  private readonly chains = new Map<number, Promise<void>>();
  /** Commits queued or under way, per partition (diagnostics). */
  private readonly queued = new Map<number, number>();
  private count = 0;

  constructor(private readonly o: OffsetCommitterOptions) {}

  /**
   * Forgets the offsets committed so far. Called at each join: the group's committed offsets are the truth from
   * there on (what this process took as committed may never have reached the group).
   */
  reset(): void {
    this.committed.clear();
  }

  /** Per partition: the offset last committed here, and commits queued or under way (for diagnostics). */
  snapshot(): Record<number, { committed: string | undefined; queued: number }> {
    const out: Record<number, { committed: string | undefined; queued: number }> = {};
    for (const p of new Set([...this.committed.keys(), ...this.queued.keys()])) {
      out[p] = { committed: this.committed.get(p)?.toString(), queued: this.queued.get(p) ?? 0 };
    }
    return out;
  }

  /** Commits made so far. */
  get commits(): number {
    return this.count;
  }

  /** Commits `offset` (the next to read) for `partition`; resolves when done or given up (never rejects). */
  commit(partition: number, offset: string, highWatermark: string): Promise<void> {
    const previous = this.chains.get(partition) ?? Promise.resolve();
    this.queued.set(partition, (this.queued.get(partition) ?? 0) + 1);
    const next = previous.then(() =>
      this.send(partition, offset, highWatermark).finally(() => {
        this.queued.set(partition, (this.queued.get(partition) ?? 1) - 1);
      }),
    );
    this.chains.set(partition, next);
    return next;
  }

  private async send(partition: number, offset: string, highWatermark: string): Promise<void> {
    const target = BigInt(offset);
    if ((this.committed.get(partition) ?? -1n) >= target) return;
    const consumer = this.o.consumer();
    if (!consumer) {
      this.o.logger.debug({ partition }, 'egress offset commit skipped: the consumer is being replaced');
      return;
    }
    try {
      const sent = consumer.commitOffsets([{ topic: this.o.topic, partition, offset }]);
      const r = await raceDeadline(sent, this.o.commitTimeoutMs ?? 10_000);
      if (!r.done) {
        // A late answer changes nothing here; a late success lands an older offset at worst (a redelivery).
        sent.catch(() => undefined);
        this.o.logger.warn({ partition }, 'egress offset commit not answered in time; left');
        return;
      }
      this.committed.set(partition, target);
      this.count++;
      this.setLag(partition, highWatermark);
    } catch (err) {
      // A rebalance took the partition: its records will be redelivered, and the ledger dedupes them.
      this.o.logger.warn({ err, partition }, 'egress offset commit failed');
      if (coordinatorGone(err)) this.o.onCoordinatorGone(err);
    }
  }

  /**
   * Sets the lag of the partitions given (the topic's high watermarks, for the partitions this instance owns)
   * from the last offset committed here; a partition never committed here is left alone.
   */
  refreshLag(highs: readonly { partition: number; high: string }[]): void {
    for (const { partition, high } of highs) if (this.committed.has(partition)) this.setLag(partition, high);
  }

  private setLag(partition: number, highWatermark: string): void {
    const lag = BigInt(highWatermark) - (this.committed.get(partition) ?? 0n);
    this.o.metrics?.kafkaConsumerLag.set(
      { topic: this.o.topic, partition: String(partition) },
      Number(lag > 0n ? lag : 0n),
    );
  }
}
