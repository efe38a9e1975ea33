/**
 * The opt-out list in memory, materialised from the compacted consent topic.
 *
 * Semantics (docs/compliance.md):
 * - One record per consent key (account, scope, number), as on the topic;
 *   the record applied last wins, exactly like compaction, so the state after
 *   a restart (replaying the compacted topic) equals the state before it.
 * - A number is blocked for a sender when it opted out of that sender
 *   (its number or its messaging service), or when it opted out of the whole
 *   account (STOPALL) and has not opted back in to that sender since.
 * - Ties between an account-wide opt-out and a sender opt-in resolve to
 *   "blocked": a wrong block costs a message, a wrong send breaks the law.
 *
 * Layout: one Map lookup by E.164 number answers the common case (a number
 * that never opted out) without allocating; the few numbers with records
 * keep them inline with shared (interned) SID and sender strings.
 */
import type { InternalEventV2 } from '../envelope';

const SENDER = 0;
const SERVICE = 1;
const ACCOUNT = 2;
type ScopeKind = typeof SENDER | typeof SERVICE | typeof ACCOUNT;

interface ConsentRecord {
  readonly account: string;
  readonly kind: ScopeKind;
  /** The sender number (kind SENDER), the MG SID (kind SERVICE), or '' (ACCOUNT). */
  readonly target: string;
  optedOut: boolean;
  /** occurredAt in ms, used only to order an account-wide opt-out against a later sender opt-in. */
  at: number;
}

export interface SenderContext {
  /** The From of the message about to be sent (a number, short code or sender ID). */
  from?: string;
  messagingServiceSid?: string;
}

export interface ConsentEntry {
  scope:
    | { kind: 'sender'; sender: string }
    | { kind: 'messaging_service'; messagingServiceSid: string }
    | { kind: 'account' };
  optedOut: boolean;
  occurredAt: string;
}

/** The part of a prom-client Gauge the store needs. */
export interface SizeGauge {
  set(value: number): void;
}

export interface ConsentStoreOptions {
  /** Receives the number of phone numbers currently opted out of at least one scope. */
  gauge?: SizeGauge;
}

type NumberState = ConsentRecord | ConsentRecord[];

export class ConsentStore {
  private readonly byNumber = new Map<string, NumberState>();
  private readonly strings = new Map<string, string>();
  private readonly gauge: SizeGauge | undefined;
  private optedOutNumberCount = 0;
  private recordCount = 0;

  constructor(options: ConsentStoreOptions = {}) {
    this.gauge = options.gauge;
    this.gauge?.set(0);
  }

  /**
   * True when `number` (E.164) must not be texted by this sender of this
   * account. Pass the same normalised E.164 the consent events carry.
   */
  isOptedOut(accountSid: string, number: string, sender: SenderContext = {}): boolean {
    const state = this.byNumber.get(number);
    if (state === undefined) return false;
    if (!Array.isArray(state)) return blocks(state, accountSid, sender);
    let accountOptOutAt = Number.NaN;
    let senderOptInAt = Number.NEGATIVE_INFINITY;
    for (const r of state) {
      if (r.account !== accountSid) continue;
      if (r.kind === ACCOUNT) {
        if (r.optedOut) accountOptOutAt = r.at;
      } else if (matches(r, sender)) {
        if (r.optedOut) return true;
        if (r.at > senderOptInAt) senderOptInAt = r.at;
      }
    }
    return !Number.isNaN(accountOptOutAt) && !(senderOptInAt > accountOptOutAt);
  }

  /**
   * Applies one envelope. Only `sms.consent.changed` opt-outs and opt-ins
   * change anything (help requests do not); returns whether the state changed.
   */
  apply(event: InternalEventV2): boolean {
    if (event.type !== 'sms.consent.changed' || event.data.action === 'help') return false;
    const s = event.data.scope;
    const [kind, target] =
      s.kind === 'sender'
        ? [SENDER, s.sender]
        : s.kind === 'messaging_service'
          ? [SERVICE, s.messagingServiceSid]
          : [ACCOUNT, ''];
    const at = Date.parse(event.occurredAt);
    return this.set(
      event.data.phoneNumber,
      event.tenant.accountSid,
      kind as ScopeKind,
      target,
      event.data.action === 'opt_out',
      Number.isNaN(at) ? 0 : at,
    );
  }

  /**
   * Forgets one consent key (`account|scope|number`, see consentKey in
   * src/kafka/topics.ts): what a tombstone on the compacted topic means.
   */
  removeKey(key: string): boolean {
    const parsed = parseConsentKey(key);
    if (!parsed) return false;
    return this.remove(parsed.number, parsed.account, parsed.kind, parsed.target);
  }

  /** The records held for one number of one account (for the admin API and tests). */
  entries(accountSid: string, number: string): ConsentEntry[] {
    const state = this.byNumber.get(number);
    if (state === undefined) return [];
    return (Array.isArray(state) ? state : [state])
      .filter((r) => r.account === accountSid)
      .map((r) => ({
        scope:
          r.kind === SENDER
            ? { kind: 'sender', sender: r.target }
            : r.kind === SERVICE
              ? { kind: 'messaging_service', messagingServiceSid: r.target }
              : { kind: 'account' },
        optedOut: r.optedOut,
        occurredAt: new Date(r.at).toISOString(),
      }));
  }

  /** Phone numbers opted out of at least one scope (the gauge's value). */
  get optedOutNumbers(): number {
    return this.optedOutNumberCount;
  }

  /** Consent records held, opt-ins included. */
  get size(): number {
    return this.recordCount;
  }

  clear(): void {
    this.byNumber.clear();
    this.optedOutNumberCount = 0;
    this.recordCount = 0;
    this.gauge?.set(0);
  }

  private set(
    number: string,
    account: string,
    kind: ScopeKind,
    target: string,
    optedOut: boolean,
    at: number,
  ): boolean {
    // An account-wide opt-in has no cross-scope meaning: it just removes the account-wide opt-out.
    if (kind === ACCOUNT && !optedOut) return this.remove(number, account, kind, target);
    const state = this.byNumber.get(number);
    const before = state !== undefined && anyOptedOut(state);
    const existing = state === undefined ? undefined : find(state, account, kind, target);
    if (existing) {
      if (existing.optedOut === optedOut && existing.at === at) return false;
      existing.optedOut = optedOut;
      existing.at = at;
    } else {
      const record: ConsentRecord = { account: this.intern(account), kind, target: this.intern(target), optedOut, at };
      if (state === undefined) this.byNumber.set(number, record);
      else if (Array.isArray(state)) state.push(record);
      else this.byNumber.set(number, [state, record]);
      this.recordCount++;
    }
    this.countChange(before, anyOptedOut(this.byNumber.get(number)!));
    return true;
  }

  private remove(number: string, account: string, kind: ScopeKind, target: string): boolean {
    const state = this.byNumber.get(number);
    if (state === undefined) return false;
    const before = anyOptedOut(state);
    if (!Array.isArray(state)) {
      if (!same(state, account, kind, target)) return false;
      this.byNumber.delete(number);
    } else {
      const i = state.findIndex((r) => same(r, account, kind, target));
      if (i < 0) return false;
      state.splice(i, 1);
      if (state.length === 1) this.byNumber.set(number, state[0]!);
    }
    this.recordCount--;
    const rest = this.byNumber.get(number);
    this.countChange(before, rest !== undefined && anyOptedOut(rest));
    return true;
  }

  private countChange(before: boolean, after: boolean): void {
    if (before === after) return;
    this.optedOutNumberCount += after ? 1 : -1;
    this.gauge?.set(this.optedOutNumberCount);
  }

  // SIDs and sender numbers repeat across millions of records; keep one copy of each.
  private intern(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    this.strings.set(value, value);
    return value;
  }
}

function blocks(r: ConsentRecord, accountSid: string, sender: SenderContext): boolean {
  if (!r.optedOut || r.account !== accountSid) return false;
  return r.kind === ACCOUNT || matches(r, sender);
}

function matches(r: ConsentRecord, sender: SenderContext): boolean {
  return r.kind === SENDER ? r.target === sender.from : r.target === sender.messagingServiceSid;
}

function same(r: ConsentRecord, account: string, kind: ScopeKind, target: string): boolean {
  return r.kind === kind && r.target === target && r.account === account;
}

function find(state: NumberState, account: string, kind: ScopeKind, target: string): ConsentRecord | undefined {
  if (!Array.isArray(state)) return same(state, account, kind, target) ? state : undefined;
  return state.find((r) => same(r, account, kind, target));
}

function anyOptedOut(state: NumberState): boolean {
  return Array.isArray(state) ? state.some((r) => r.optedOut) : state.optedOut;
}

function parseConsentKey(
  key: string,
): { account: string; kind: ScopeKind; target: string; number: string } | undefined {
  const parts = key.split('|');
  if (parts.length !== 3) return undefined;
  const [account, scope, number] = parts as [string, string, string];
  if (scope === 'account') return { account, kind: ACCOUNT, target: '', number };
  if (scope.startsWith('sender:')) return { account, kind: SENDER, target: scope.slice(7), number };
  if (scope.startsWith('ms:')) return { account, kind: SERVICE, target: scope.slice(3), number };
  return undefined;
}
