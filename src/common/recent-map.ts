import type { Clock } from './clock';

/** Without a TTL the map reads no time. */
const NO_TIME: Pick<Clock, 'now'> = { now: () => 0 };

export interface RecentMapOptions {
  /**
   * Most entries held. At least the newest `maxEntries / 2` are always
   * remembered; older ones are forgotten a generation at a time.
   */
  maxEntries: number;
  /** How long an entry counts after it was set; undefined = no age limit. */
  ttlMs?: number | undefined;
  /** Read for ttlMs only (without a TTL, no time is read). */
  clock?: Pick<Clock, 'now'>;
}

interface Generation<V> {
  entries: Map<string, { value: V; at: number }>;
  /** When its newest entry was set. */
  lastAt: number;
  startedAt: number;
}

/**
 * A map that remembers recent keys in bounded memory, in O(1) per operation.
 *
 * Entries go into the current generation; when it is half the size limit (or
 * half the TTL old) it becomes the previous one and the one before is dropped
 * whole. This replaces "Map in insertion order, delete from the front": V8's
 * Map keeps deleted slots until it rehashes, so every new iterator over such a
 * map walks the holes at its front first, which cost ~50 µs per eviction at
 * 100,000 entries (a sixth of the webhook route's CPU).
 *
 * A lookup ignores an entry older than ttlMs, so expiry is exact even though
 * memory is freed a generation at a time.
 */
export class RecentMap<V> {
  private current: Generation<V>;
  private previous: Generation<V> | undefined;
  private readonly generationSize: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(private readonly options: RecentMapOptions) {
    if (!(options.maxEntries >= 2)) throw new RangeError('RecentMap needs maxEntries >= 2');
    this.generationSize = Math.floor(options.maxEntries / 2);
    this.clock = options.clock ?? NO_TIME;
    this.current = this.newGeneration(this.clock.now());
  }

  /** The live value for the key, or undefined (absent, forgotten or older than ttlMs). */
  get(key: string): V | undefined {
    const entry = this.current.entries.get(key) ?? this.previous?.entries.get(key);
    if (entry === undefined) return undefined;
    const ttl = this.options.ttlMs;
    if (ttl !== undefined && this.clock.now() - entry.at >= ttl) return undefined;
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets the value and makes the key the newest. */
  set(key: string, value: V): void {
    const now = this.clock.now();
    this.roll(now);
    const entries = this.current.entries;
    entries.delete(key); // a key set again moves to the newest position
    entries.set(key, { value, at: now });
    this.current.lastAt = now;
  }

  /** Entries held, expired ones included until their generation is dropped. */
  get size(): number {
    return this.current.entries.size + (this.previous?.entries.size ?? 0);
  }

  private roll(now: number): void {
    const ttl = this.options.ttlMs;
    const cur = this.current;
    const full = cur.entries.size >= this.generationSize;
    const old = ttl !== undefined && cur.entries.size > 0 && now - cur.startedAt >= ttl / 2;
    if (full || old) {
      // Everything in the current generation expired already: nothing to keep.
      const keep = ttl === undefined || now - cur.lastAt < ttl;
      this.previous = keep ? cur : undefined;
      this.current = this.newGeneration(now);
    } else if (this.previous && ttl !== undefined && now - this.previous.lastAt >= ttl) {
      this.previous = undefined;
    }
  }

  private newGeneration(now: number): Generation<V> {
    return { entries: new Map(), lastAt: now, startedAt: now };
  }
}
