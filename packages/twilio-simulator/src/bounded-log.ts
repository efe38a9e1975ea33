/**
 * An append-only log that keeps the newest `capacity` entries, so inspection
 * logs cannot grow without bound during long benchmarks. Trimming happens in
 * chunks to keep push O(1) amortised.
 */
export class BoundedLog<T> {
  private entries: T[] = [];
  private dropped = 0;

  constructor(private readonly capacity: number) {}

  push(entry: T): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity + Math.max(16, Math.floor(this.capacity / 10))) {
      const excess = this.entries.length - this.capacity;
      this.entries = this.entries.slice(excess);
      this.dropped += excess;
    }
  }

  /** The kept entries, oldest first (at most capacity). */
  items(): readonly T[] {
    return this.entries.length > this.capacity ? this.entries.slice(this.entries.length - this.capacity) : this.entries;
  }

  /** Entries ever pushed, including trimmed ones. */
  get total(): number {
    return this.dropped + this.entries.length;
  }

  clear(): void {
    this.entries = [];
    this.dropped = 0;
  }
}
