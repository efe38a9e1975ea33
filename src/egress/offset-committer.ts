import type { Consumer } from 'kafkajs';
import type { Logger, Metrics } from '../observability';
import { coordinatorGone } from '../kafka/kafka-errors';

export interface OffsetCommitterOptions {
  topic: string;
  /** The consumer of the moment (a new one replaces it after a fatal crash). */
  consumer: () => Consumer | undefined;
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
  private count = 0;

  constructor(private readonly o: OffsetCommitterOptions) {}

  /** Commits made so far. */
  get commits(): number {
    return this.count;
  }

  /** Commits `offset` (the next to read) for `partition`; resolves when done or given up (never rejects). */
  commit(partition: number, offset: string, highWatermark: string): Promise<void> {
    const previous = this.chains.get(partition) ?? Promise.resolve();
    const next = previous.then(async () => {
      const target = BigInt(offset);
      if ((this.committed.get(partition) ?? -1n) >= target) return;
      try {
        await this.o.consumer()?.commitOffsets([{ topic: this.o.topic, partition, offset }]);
        this.committed.set(partition, target);
        this.count++;
        this.setLag(partition, highWatermark);
      } catch (err) {
        // A rebalance took the partition: its records will be redelivered, and the ledger dedupes them.
        this.o.logger.warn({ err, partition }, 'egress offset commit failed');
        if (coordinatorGone(err)) this.o.onCoordinatorGone(err);
      }
    });
    this.chains.set(partition, next);
    return next;
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
