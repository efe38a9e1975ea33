import type { Clock } from '../../common/clock';
import { RecentMap } from '../../common/recent-map';

export interface DeliveryDeduplicatorOptions {
  /** How long a delivered webhook is remembered (Twilio retries within seconds to minutes). */
  windowMs: number;
  /** Upper bound on remembered keys (at least the newest half are kept); the oldest are forgotten first. */
  maxEntries: number;
  /** Injected so windows are tested without sleeping. */
  clock: Pick<Clock, 'now'>;
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
  private readonly done: RecentMap<{ result: T }>;

  constructor(options: DeliveryDeduplicatorOptions) {
    this.done = new RecentMap({ maxEntries: options.maxEntries, ttlMs: options.windowMs, clock: options.clock });
  }

  run(keys: readonly string[], work: () => Promise<T>): DedupRun<T> {
    for (const key of keys) {
      const pending = this.inFlight.get(key);
      if (pending) return { duplicate: true, result: pending };
      const hit = this.done.get(key);
      if (hit) return { duplicate: true, result: Promise.resolve(hit.result) };
    }
    const result = work();
    for (const key of keys) this.inFlight.set(key, result);
    result.then(
      (value) => {
        for (const key of keys) {
          if (this.inFlight.get(key) === result) this.inFlight.delete(key);
          this.done.set(key, { result: value });
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
}
