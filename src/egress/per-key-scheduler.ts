import type { KafkaMessage } from 'kafkajs';
import type { Semaphore } from '../resilience';

export interface PerKeyRunOptions {
  /** At most this many records run at once, over every partition (EGRESS_CONCURRENCY). */
  slots: Semaphore;
  /** Checked before each record (and again once it has a slot): true stops taking new records. */
  stop: () => boolean;
  /** Handles one record; false: it was left unfinished (stopping) and ends its key's run, to be redelivered. */
  run: (message: KafkaMessage) => Promise<boolean>;
  /** Called after a record finished, outside its slot (offset tracking and commits). */
  finished: (message: KafkaMessage) => void;
}

/**
 * The egress scheduling rule for one fetched batch: records with different
 * keys (recipients) run in parallel, records with the same key strictly in
 * offset order, and at most `slots` at once. A record without a key is a key
 * of its own.
 */
export async function runPerKey(messages: readonly KafkaMessage[], o: PerKeyRunOptions): Promise<void> {
  await Promise.all(
    [...byKey(messages).values()].map(async (records) => {
      for (const m of records) {
        if (o.stop()) return;
        await o.slots.acquire();
        try {
          if (o.stop()) return;
          if (!(await o.run(m))) return;
        } finally {
          o.slots.release();
        }
        o.finished(m);
      }
    }),
  );
}

/** The batch's records grouped by key, each group in offset order. */
export function byKey(messages: readonly KafkaMessage[]): Map<string, KafkaMessage[]> {
  const groups = new Map<string, KafkaMessage[]>();
  for (const m of messages) {
    const k = m.key === null ? `\u0000${m.offset}` : m.key.toString('latin1');
    const g = groups.get(k);
    if (g) g.push(m);
    else groups.set(k, [m]);
  }
  return groups;
}
