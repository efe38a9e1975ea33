import type { MessageDirection, MessageStatus, SimMessage } from './message';

/**
 * Every message the simulator knows, by SID and in creation order, plus the
 * counters tests ask about most: how often the same (to, body) was accepted.
 * Deleting a message through the API hides it from the API, never from the
 * counters: a duplicate SMS was still sent. Past `maxMessages` the oldest
 * records are dropped (long benchmarks would otherwise grow without bound);
 * the counters stay exact.
 */
export interface MessageFilter {
  accountSid?: string;
  to?: string;
  from?: string;
  direction?: MessageDirection;
  status?: MessageStatus;
  body?: string;
}

export interface DateSentFilter {
  /** DateSent=: same UTC day as this instant. */
  on?: { start: number; end: number };
  /** DateSent<: on or before. */
  before?: number;
  /** DateSent>: on or after. */
  after?: number;
}

export interface ListQuery {
  accountSid: string;
  to?: string | undefined;
  from?: string | undefined;
  dateSent?: DateSentFilter;
}

export class MessageStore {
  private readonly bySid = new Map<string, SimMessage>();
  private ordered: SimMessage[] = [];
  /** Index of the oldest message still kept (eviction moves it instead of shifting the array). */
  private head = 0;
  private readonly deleted = new Set<string>();
  private readonly sendCounts = new Map<string, number>();
  private seq = 0;
  private evictedCount = 0;
  private outboundCount = 0;

  /**
   * @param touch brings a message up to date before anyone reads it (lazy
   *   status progression); every read path calls it.
   */
  constructor(
    private readonly maxMessages = Infinity,
    private readonly touch: (m: SimMessage) => void = () => undefined,
  ) {}

  nextSeq(): number {
    return this.seq++;
  }

  add(m: SimMessage): void {
    this.bySid.set(m.sid, m);
    this.ordered.push(m);
    if (m.direction === 'outbound-api') {
      this.outboundCount++;
      const k = sendKey(m.to, m.body);
      this.sendCounts.set(k, (this.sendCounts.get(k) ?? 0) + 1);
    }
    if (this.ordered.length - this.head > this.maxMessages) this.evictOldest();
  }

  /** Outbound API messages ever added, evicted ones included. */
  get outboundCreated(): number {
    return this.outboundCount;
  }

  /** Messages dropped to respect maxMessages. */
  get evicted(): number {
    return this.evictedCount;
  }

  private evictOldest(): void {
    const old = this.ordered[this.head];
    this.ordered[this.head] = undefined as unknown as SimMessage;
    this.head += 1;
    this.evictedCount += 1;
    if (old) {
      this.bySid.delete(old.sid);
      this.deleted.delete(old.sid);
    }
    if (this.head > 1024 && this.head * 2 > this.ordered.length) {
      this.ordered = this.ordered.slice(this.head);
      this.head = 0;
    }
  }

  /** The message as the API sees it (deleted ones are gone). */
  get(accountSid: string, sid: string): SimMessage | undefined {
    const m = this.bySid.get(sid);
    if (!m || m.accountSid !== accountSid || this.deleted.has(sid)) return undefined;
    this.touch(m);
    return m;
  }

  /** For inspection: also finds deleted messages. */
  find(sid: string): SimMessage | undefined {
    const m = this.bySid.get(sid);
    if (m) this.touch(m);
    return m;
  }

  delete(sid: string): void {
    this.deleted.add(sid);
  }

  get size(): number {
    return this.ordered.length - this.head;
  }

  all(): readonly SimMessage[] {
    const kept = this.head === 0 ? this.ordered : this.ordered.slice(this.head);
    for (const m of kept) this.touch(m);
    return kept;
  }

  filter(f: MessageFilter = {}): SimMessage[] {
    return this.all().filter(
      (m) =>
        (f.accountSid === undefined || m.accountSid === f.accountSid) &&
        (f.to === undefined || m.to === f.to) &&
        (f.from === undefined || m.from === f.from) &&
        (f.direction === undefined || m.direction === f.direction) &&
        (f.status === undefined || m.status === f.status) &&
        (f.body === undefined || m.body === f.body),
    );
  }

  /** Outbound messages accepted for (to, body), deleted ones included. */
  timesSent(to: string, body: string): number {
    return this.sendCounts.get(sendKey(to, body)) ?? 0;
  }

  /** Every (to, body) accepted more than once. */
  duplicates(): { to: string; body: string; count: number }[] {
    const out: { to: string; body: string; count: number }[] = [];
    for (const [k, count] of this.sendCounts) {
      if (count < 2) continue;
      const i = k.indexOf('\u0000');
      out.push({ to: k.slice(0, i), body: k.slice(i + 1), count });
    }
    return out;
  }

  /** Extra sends beyond the first, summed over every (to, body). */
  duplicateCount(): number {
    let n = 0;
    for (const c of this.sendCounts.values()) if (c > 1) n += c - 1;
    return n;
  }

  /** The API's list order: newest first, filtered as Twilio filters. */
  list(q: ListQuery): SimMessage[] {
    const out: SimMessage[] = [];
    for (let i = this.ordered.length - 1; i >= this.head; i--) {
      const m = this.ordered[i]!;
      if (m.accountSid !== q.accountSid || this.deleted.has(m.sid)) continue;
      this.touch(m);
      if (q.to !== undefined && m.to !== q.to) continue;
      if (q.from !== undefined && m.from !== q.from) continue;
      if (q.dateSent && !matchesDateSent(m.dateSent, q.dateSent)) continue;
      out.push(m);
    }
    return out;
  }

  clear(): void {
    this.bySid.clear();
    this.ordered = [];
    this.head = 0;
    this.deleted.clear();
    this.sendCounts.clear();
    this.seq = 0;
    this.evictedCount = 0;
    this.outboundCount = 0;
  }
}

function sendKey(to: string, body: string): string {
  return `${to}\u0000${body}`;
}

function matchesDateSent(sent: number | null, f: DateSentFilter): boolean {
  // Twilio filters on date_sent: a message not sent yet has none and never matches.
  if (sent === null) return false;
  if (f.on && (sent < f.on.start || sent >= f.on.end)) return false;
  if (f.before !== undefined && sent > f.before) return false;
  if (f.after !== undefined && sent < f.after) return false;
  return true;
}
