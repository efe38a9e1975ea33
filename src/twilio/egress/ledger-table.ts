import type { LedgerEntry } from './send-ledger';

/**
 * The in-memory view of the ledger, with indexes by request and MessageSid.
 * A record only moves an entry forward: `sent` is final, so a late `intent`
 * (a replayed record, or our own write read back) never hides a send.
 */
export class LedgerTable {
  private readonly entries = new Map<string, LedgerEntry>();
  private readonly requests = new Map<string, Set<string>>();
  private readonly sids = new Map<string, string>();

  get size(): number {
    return this.entries.size;
  }

  get(key: string): LedgerEntry | undefined {
    return this.entries.get(key);
  }

  byRequest(requestId: string): LedgerEntry[] {
    const keys = this.requests.get(requestId);
    if (!keys) return [];
    const out: LedgerEntry[] = [];
    for (const k of keys) {
      const e = this.entries.get(k);
      if (e) out.push(e);
    }
    return out;
  }

  byMessageSid(sid: string): LedgerEntry | undefined {
    const k = this.sids.get(sid);
    return k === undefined ? undefined : this.entries.get(k);
  }

  /** Applies a record; returns false when it was ignored as older than what is known. */
  apply(entry: LedgerEntry): boolean {
    const current = this.entries.get(entry.key);
    if (current?.state === 'sent' && entry.state !== 'sent') return false;
    this.entries.set(entry.key, entry);
    let keys = this.requests.get(entry.requestId);
    if (!keys) this.requests.set(entry.requestId, (keys = new Set()));
    keys.add(entry.key);
    if (entry.messageSid !== undefined) this.sids.set(entry.messageSid, entry.key);
    return true;
  }

  /** Forgets entries last written before `cutoff` (ms); returns how many. */
  prune(cutoff: number): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.updatedAt >= cutoff) continue;
      this.entries.delete(k);
      const keys = this.requests.get(e.requestId);
      keys?.delete(k);
      if (keys?.size === 0) this.requests.delete(e.requestId);
      if (e.messageSid !== undefined) this.sids.delete(e.messageSid);
      n++;
    }
    return n;
  }
}
