/** Milliseconds since the epoch; injected so windows are tested without sleeping. */
export type NowMs = () => number;

export interface DeliveryDeduplicatorOptions {
  /** How long a delivered webhook is remembered (Twilio retries within seconds to minutes). */
  windowMs: number;
  /** Upper bound on remembered keys; the oldest are forgotten first. */
  maxEntries: number;
  now: NowMs;
}

export interface DedupRun<T> {
  /** True when another delivery with one of these keys is in flight or succeeded within the window. */
  duplicate: boolean;
  result: Promise<T>;
}

/**
 * Runs the work of a webhook once per delivery key. A repeat that arrives
 * while the first is still in flight shares its promise (so both answers
 * reflect the one Kafka ack, and nothing is published twice); a repeat after
 * success is suppressed for `windowMs`; a failure is forgotten at once so
 * Twilio's retry publishes again.
 *
 * Several keys may name one delivery (the I-Twilio-Idempotency-Token and the
 * MessageSid(+status)); a hit on any of them is a duplicate.
 */
export class DeliveryDeduplicator<T> {
  private readonly inFlight = new Map<string, Promise<T>>();
  // Insertion order is completion order, so the oldest entries are at the front.
  private readonly done = new Map<string, { at: number; result: T }>();
  private lastSweep = 0;

  constructor(private readonly options: DeliveryDeduplicatorOptions) {}

  run(keys: readonly string[], work: () => Promise<T>): DedupRun<T> {
    const now = this.options.now();
    for (const key of keys) {
      const pending = this.inFlight.get(key);
      if (pending) return { duplicate: true, result: pending };
      const hit = this.done.get(key);
      if (hit) {
        if (now - hit.at < this.options.windowMs) return { duplicate: true, result: Promise.resolve(hit.result) };
        this.done.delete(key);
      }
    }
    const result = work();
    for (const key of keys) this.inFlight.set(key, result);
    result.then(
      (value) => {
        const at = this.options.now();
        for (const key of keys) {
          if (this.inFlight.get(key) === result) this.inFlight.delete(key);
          this.done.delete(key);
          this.done.set(key, { at, result: value });
        }
        if (this.done.size > this.options.maxEntries || at - this.lastSweep >= this.options.windowMs / 10) {
          this.evict(at);
        }
      },
      () => {
        for (const key of keys) if (this.inFlight.get(key) === result) this.inFlight.delete(key);
      },
    );
    return { duplicate: false, result };
  }

  /** Remembered plus in-flight keys (for tests and the bounded-memory check). */
  get size(): number {
    return this.done.size + this.inFlight.size;
  }

  /**
   * Runs only when over size or every tenth of a window: lookups check the
   * age themselves, so expired entries only cost memory until the sweep, and
   * the hot path does not walk the map on every delivery.
   */
  private evict(now: number): void {
    this.lastSweep = now;
    const { maxEntries, windowMs } = this.options;
    for (const [key, entry] of this.done) {
      if (this.done.size <= maxEntries && now - entry.at < windowMs) break;
      this.done.delete(key);
    }
  }
}
