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
 * Layout, for millions of numbers: one Map lookup by E.164 number answers the
 * common case (a number that never opted out) without allocating. Scopes
 * (account + sender or service) are interned objects shared by every number.
 * The usual record, an opt-out of one sender or service, is stored as that
 * shared scope itself: its time is never needed, because only an account-wide
 * opt-out is ever weighed against a later opt-in. Other records (account-wide
 * opt-outs, opt-ins) keep their time in a small object.
 */
import type { InternalEventV2 } from '../envelope';

const SENDER = 0;
const SERVICE = 1;
const ACCOUNT = 2;
type ScopeKind = typeof SENDER | typeof SERVICE | typeof ACCOUNT;

class Scope {
  constructor(
    readonly account: string,
    readonly kind: ScopeKind,
    /** The sender number (SENDER), the MG SID (SERVICE), or '' (ACCOUNT). */
    readonly target: string,
  ) {}
}

class TimedRecord {
  constructor(
    readonly scope: Scope,
    readonly optedOut: boolean,
    /** occurredAt in ms. */
    readonly at: number,
  ) {}
}

/** A bare Scope means "opted out of this sender or service". */
type Entry = Scope | TimedRecord;
type NumberState = Entry | Entry[];

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
  /** Kept for account-wide opt-outs and for opt-ins, where it decides precedence; undefined otherwise. */
  occurredAt: string | undefined;
}

/** The part of a prom-client Gauge the store needs. */
export interface SizeGauge {
  set(value: number): void;
}

export interface ConsentStoreOptions {
  /** Receives the number of phone numbers currently opted out of at least one scope. */
  gauge?: SizeGauge;
}

export class ConsentStore {
  private readonly byNumber = new Map<string, NumberState>();
  private readonly scopes = new Map<string, Scope>();
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
    if (state instanceof Scope) return state.account === accountSid && matches(state, sender);
    if (state instanceof TimedRecord) {
      const s = state.scope;
      return state.optedOut && s.account === accountSid && (s.kind === ACCOUNT || matches(s, sender));
    }
    let accountOptOutAt = Number.NaN;
    let senderOptInAt = Number.NEGATIVE_INFINITY;
    for (const e of state) {
      const s = e instanceof Scope ? e : e.scope;
      if (s.account !== accountSid) continue;
      if (e instanceof Scope) {
        if (matches(e, sender)) return true;
      } else if (s.kind === ACCOUNT) {
        if (e.optedOut) accountOptOutAt = e.at;
      } else if (matches(s, sender)) {
        if (e.optedOut) return true;
        if (e.at > senderOptInAt) senderOptInAt = e.at;
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
    const scope =
      s.kind === 'sender'
        ? this.scope(event.tenant.accountSid, SENDER, s.sender)
        : s.kind === 'messaging_service'
          ? this.scope(event.tenant.accountSid, SERVICE, s.messagingServiceSid)
          : this.scope(event.tenant.accountSid, ACCOUNT, '');
    const at = Date.parse(event.occurredAt);
    return this.set(event.data.phoneNumber, scope, event.data.action === 'opt_out', Number.isNaN(at) ? 0 : at);
  }

  /**
   * Forgets one consent key (`account|scope|number`, see consentKey in
   * src/kafka/topics.ts): what a tombstone on the compacted topic means.
   */
  removeKey(key: string): boolean {
    const parts = key.split('|');
    if (parts.length !== 3) return false;
    const [account, scopePart, number] = parts as [string, string, string];
    let kind: ScopeKind;
    let target: string;
    if (scopePart === 'account') [kind, target] = [ACCOUNT, ''];
    else if (scopePart.startsWith('sender:')) [kind, target] = [SENDER, scopePart.slice(7)];
    else if (scopePart.startsWith('ms:')) [kind, target] = [SERVICE, scopePart.slice(3)];
    else return false;
    const scope = this.scopes.get(scopeId(account, kind, target));
    return scope !== undefined && this.remove(number, scope);
  }

  /** The records held for one number of one account (for the admin API and tests). */
  entries(accountSid: string, number: string): ConsentEntry[] {
    const state = this.byNumber.get(number);
    if (state === undefined) return [];
    return (Array.isArray(state) ? state : [state])
      .filter((e) => scopeOf(e).account === accountSid)
      .map((e) => {
        const s = scopeOf(e);
        return {
          scope:
            s.kind === SENDER
              ? { kind: 'sender', sender: s.target }
              : s.kind === SERVICE
                ? { kind: 'messaging_service', messagingServiceSid: s.target }
                : { kind: 'account' },
          optedOut: e instanceof Scope ? true : e.optedOut,
          occurredAt: e instanceof Scope ? undefined : new Date(e.at).toISOString(),
        };
      });
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

  private scope(account: string, kind: ScopeKind, target: string): Scope {
    const id = scopeId(account, kind, target);
    let scope = this.scopes.get(id);
    if (scope === undefined) {
      scope = new Scope(account, kind, target);
      this.scopes.set(id, scope);
    }
    return scope;
  }

  private set(number: string, scope: Scope, optedOut: boolean, at: number): boolean {
    // An account-wide opt-in has no cross-scope meaning: it just removes the account-wide opt-out.
    if (scope.kind === ACCOUNT && !optedOut) return this.remove(number, scope);
    const entry: Entry = optedOut && scope.kind !== ACCOUNT ? scope : new TimedRecord(scope, optedOut, at);
    const state = this.byNumber.get(number);
    const before = state !== undefined && anyOptedOut(state);
    if (state === undefined) {
      this.byNumber.set(number, entry);
      this.recordCount++;
    } else if (Array.isArray(state)) {
      const i = state.findIndex((e) => scopeOf(e) === scope);
      if (i >= 0 && sameEntry(state[i]!, entry)) return false;
      if (i >= 0) state[i] = entry;
      else {
        state.push(entry);
        this.recordCount++;
      }
    } else if (scopeOf(state) === scope) {
      if (sameEntry(state, entry)) return false;
      this.byNumber.set(number, entry);
    } else {
      this.byNumber.set(number, [state, entry]);
      this.recordCount++;
    }
    this.countChange(before, anyOptedOut(this.byNumber.get(number)!));
    return true;
  }

  private remove(number: string, scope: Scope): boolean {
    const state = this.byNumber.get(number);
    if (state === undefined) return false;
    const before = anyOptedOut(state);
    if (!Array.isArray(state)) {
      if (scopeOf(state) !== scope) return false;
      this.byNumber.delete(number);
    } else {
      const i = state.findIndex((e) => scopeOf(e) === scope);
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
}

function scopeId(account: string, kind: ScopeKind, target: string): string {
  return `${account}|${kind}|${target}`;
}

function scopeOf(e: Entry): Scope {
  return e instanceof Scope ? e : e.scope;
}

function matches(s: Scope, sender: SenderContext): boolean {
  return s.kind === SENDER ? s.target === sender.from : s.kind === SERVICE && s.target === sender.messagingServiceSid;
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  return a instanceof TimedRecord && b instanceof TimedRecord && a.optedOut === b.optedOut && a.at === b.at;
}

function anyOptedOut(state: NumberState): boolean {
  const one = (e: Entry) => e instanceof Scope || e.optedOut;
  return Array.isArray(state) ? state.some(one) : one(state);
}
