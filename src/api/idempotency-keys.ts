import type { Clock } from '../common/clock';
import { createHash } from 'node:crypto';
import { RecentMap } from '../common/recent-map';
import { deterministicEventId } from '../envelope';

/** A request id and the fingerprint of the body first sent with its key. */
interface KeyUse {
  requestId: string;
  fingerprint: string;
  /** Settles when the first request's publish settled; a concurrent repeat answers with it. */
  published: Promise<void>;
  /** The publish failed: the next use of the key starts afresh. */
  failed: boolean;
}

export type KeyClaim =
  | { kind: 'new'; requestId: string; settle: (ok: boolean) => void }
  | { kind: 'repeat'; requestId: string; published: Promise<void> }
  | { kind: 'conflict'; requestId: string };

/**
 * `Idempotency-Key` handling. A key names a request per token: its request
 * id is `deterministicEventId('api', route, token name, key)`, the same on
 * every instance and after a restart, so a repeat that reaches Kafka again is
 * deduplicated by egress's send ledger (one SMS). Within this instance a
 * repeat (also a concurrent one) is not even published twice: it waits for
 * the first publish and answers the same request id. The same key with a
 * different body is a conflict (422), not a silent replay.
 */
export class IdempotencyKeys {
  private readonly uses: RecentMap<KeyUse>;

  constructor(options: { clock: Pick<Clock, 'now'>; ttlMs?: number; maxKeys?: number }) {
    this.uses = new RecentMap({
      maxEntries: options.maxKeys ?? 200_000,
      ttlMs: options.ttlMs ?? 24 * 3600_000,
      clock: options.clock,
    });
  }

  static requestId(route: string, caller: string, key: string): string {
    return deterministicEventId('api', route, caller, key);
  }

  static fingerprint(body: unknown): string {
    return createHash('sha256')
      .update(JSON.stringify(body ?? null))
      .digest('hex');
  }

  claim(route: string, caller: string, key: string, body: unknown): KeyClaim {
    const requestId = IdempotencyKeys.requestId(route, caller, key);
    const fingerprint = IdempotencyKeys.fingerprint(body);
    const mapKey = `${route}\u001f${caller}\u001f${key}`;
    const use = this.uses.get(mapKey);
    if (use && !use.failed) {
      return use.fingerprint === fingerprint
        ? { kind: 'repeat', requestId, published: use.published }
        : { kind: 'conflict', requestId };
    }
    let settle: (ok: boolean) => void = () => undefined;
    const published = new Promise<void>((resolve, reject) => {
      settle = (ok) => (ok ? resolve() : reject(new Error('the first request with this key was not published')));
    });
    // Nobody may be waiting: an unobserved rejection must not crash the process.
    published.catch(() => undefined);
    const entry: KeyUse = { requestId, fingerprint, published, failed: false };
    this.uses.set(mapKey, entry);
    return {
      kind: 'new',
      requestId,
      settle: (ok) => {
        entry.failed = !ok;
        settle(ok);
      },
    };
  }
}
