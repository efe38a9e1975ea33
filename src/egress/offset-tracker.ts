/**
 * Tracks which records of a partition are finished, so that only a
 * contiguous prefix is ever committed: a record whose outcome is not on Kafka
 * yet holds back the commit of everything after it, even when later records
 * (other recipients) finished first.
 */
export class OffsetTracker {
  private readonly pending: bigint[];
  private readonly done = new Set<bigint>();
  private head = 0;
  private committable: bigint | undefined;

  /** `offsets` in partition order (a batch's records). */
  constructor(offsets: readonly string[]) {
    this.pending = offsets.map((o) => BigInt(o));
  }

  /** Marks a record finished; returns the next offset to commit when the prefix grew, else undefined. */
  complete(offset: string): string | undefined {
    this.done.add(BigInt(offset));
    let moved = false;
    while (this.head < this.pending.length && this.done.has(this.pending[this.head]!)) {
      this.done.delete(this.pending[this.head]!);
      this.committable = this.pending[this.head]! + 1n;
      this.head++;
      moved = true;
    }
    return moved ? this.committable!.toString() : undefined;
  }

  /** The offset to commit (one past the last record of the finished prefix), or undefined if none finished. */
  get commitOffset(): string | undefined {
    return this.committable?.toString();
  }

  /** The last record of the finished prefix, for kafkajs resolveOffset. */
  get lastFinished(): string | undefined {
    return this.committable === undefined ? undefined : (this.committable - 1n).toString();
  }

  get allDone(): boolean {
    return this.head === this.pending.length;
  }
}
