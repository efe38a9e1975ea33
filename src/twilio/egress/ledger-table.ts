import type { LedgerEntry } from './send-ledger';

/** Distinct strings shared between entries (account SIDs, owners, statuses) are kept once up to this many. */
const MAX_SHARED_STRINGS = 10_000;

/**
 * The in-memory view of the ledger, with indexes by request and MessageSid.
 * A record only moves an entry forward: `sent` is final, so a late `intent`
 * (a replayed record, or our own write read back) never hides a send.
 *
 * Memory is bounded: past `maxEntries` an entry first written in the oldest
 * minute held is forgotten. The table remembers the latest `updatedAt` it forgot
 * (`forgottenUpTo`): an absent entry means "never written" only for a request
 * newer than that.
 */
export class LedgerTable {
  private readonly entries = new Map<string, LedgerEntry>();
  /**
   * When the table is bounded: keys by the minute of their first write, so the oldest can be found however the
   * records arrive (a reader catching up reads one partition after another, not in time order).
   */
  private buckets = new Map<number, string[]>();
  private oldestMinute = Number.POSITIVE_INFINITY;
  /** Request id → its key, or its keys (a bulk request): one string in the common single-recipient case. */
  private readonly requests = new Map<string, string | string[]>();
  private readonly sids = new Map<string, string>();
  private readonly shared = new Map<string, string>();
  private forgotten = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxEntries = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.entries.size;
  }

  /** The latest `updatedAt` of an entry this table forgot (or was told it never kept); -Infinity when none. */
  get forgottenUpTo(): number {
    return this.forgotten;
  }

  get(key: string): LedgerEntry | undefined {
    return this.entries.get(key);
  }

  byRequest(requestId: string): LedgerEntry[] {
    const keys = this.requests.get(requestId);
    if (keys === undefined) return [];
    const out: LedgerEntry[] = [];
    for (const k of typeof keys === 'string' ? [keys] : keys) {
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
    const e = this.compact(entry);
    if (current) {
      if (current.messageSid !== undefined && current.messageSid !== e.messageSid) this.sids.delete(current.messageSid);
    } else {
      this.index(e);
      if (this.maxEntries !== Number.POSITIVE_INFINITY) this.bucket(e);
    }
    this.entries.set(e.key, e);
    if (e.messageSid !== undefined) this.sids.set(e.messageSid, e.key);
    while (this.entries.size > this.maxEntries) {
      const k = this.oldestKey();
      if (k === undefined) break;
      const oldest = this.entries.get(k);
      if (oldest) this.remove(k, oldest);
    }
    return true;
  }

  /** Notes an entry written at `updatedAt` that is not kept (read back already past the retention). */
  forgot(updatedAt: number): void {
    if (updatedAt > this.forgotten) this.forgotten = updatedAt;
  }

  /** Forgets entries last written before `cutoff` (ms); returns how many. */
  prune(cutoff: number): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.updatedAt >= cutoff) continue;
      this.remove(k, e);
      n++;
    }
    if (n > 0 && this.maxEntries !== Number.POSITIVE_INFINITY) {
      this.buckets = new Map();
      this.oldestMinute = Number.POSITIVE_INFINITY;
      for (const e of this.entries.values()) this.bucket(e);
    }
    return n;
  }

  private bucket(e: LedgerEntry): void {
    const minute = Math.floor(e.updatedAt / 60_000);
    const keys = this.buckets.get(minute);
    if (keys) keys.push(e.key);
    else this.buckets.set(minute, [e.key]);
    if (minute < this.oldestMinute) this.oldestMinute = minute;
  }

  /** A key first written in the oldest minute still held (taken out of its bucket), or undefined when none is. */
  private oldestKey(): string | undefined {
    for (;;) {
      const keys = this.buckets.get(this.oldestMinute);
      const k = keys?.pop();
      if (k !== undefined) return k;
      this.buckets.delete(this.oldestMinute);
      if (this.buckets.size === 0) {
        this.oldestMinute = Number.POSITIVE_INFINITY;
        return undefined;
      }
      this.oldestMinute = Number.POSITIVE_INFINITY;
      for (const m of this.buckets.keys()) if (m < this.oldestMinute) this.oldestMinute = m;
    }
  }

  private remove(key: string, e: LedgerEntry): void {
    this.entries.delete(key);
    this.forgot(e.updatedAt);
    const keys = this.requests.get(e.requestId);
    if (keys === key) this.requests.delete(e.requestId);
    else if (Array.isArray(keys)) {
      const rest = keys.filter((k) => k !== key);
      if (rest.length === 1) this.requests.set(e.requestId, rest[0]!);
      else this.requests.set(e.requestId, rest);
    }
    if (e.messageSid !== undefined && this.sids.get(e.messageSid) === key) this.sids.delete(e.messageSid);
  }

  private index(e: LedgerEntry): void {
    const keys = this.requests.get(e.requestId);
    if (keys === undefined) this.requests.set(e.requestId, e.key);
    else if (typeof keys === 'string') this.requests.set(e.requestId, [keys, e.key]);
    else keys.push(e.key);
  }

  /**
   * One object shape for every entry, with the strings many entries repeat (account, owner, status, encoding)
   * kept once: about 500 bytes an entry instead of about 750 (docs/runbook.md, "Memory").
   */
  private compact(e: LedgerEntry): LedgerEntry {
    return {
      key: e.key,
      state: this.share(e.state) as LedgerEntry['state'],
      requestId: e.requestId,
      recipient: e.recipient,
      accountSid: this.share(e.accountSid),
      attemptAt: e.attemptAt,
      owner: this.share(e.owner),
      updatedAt: e.updatedAt,
      messageSid: e.messageSid,
      status: e.status === undefined ? undefined : this.share(e.status),
      numSegments: e.numSegments,
      encoding: e.encoding === undefined ? undefined : (this.share(e.encoding) as LedgerEntry['encoding']),
      attempts: e.attempts,
    };
  }

  private share(s: string): string {
    const known = this.shared.get(s);
    if (known !== undefined) return known;
    if (this.shared.size >= MAX_SHARED_STRINGS) this.shared.clear();
    this.shared.set(s, s);
    return s;
  }
}
