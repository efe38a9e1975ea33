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
 * Layout, for millions of numbers: an E164Table (one cache line per lookup,
 * no allocation) maps each number to an int. Scopes (account + sender or
 * service) are interned objects shared by every number; the usual record, an
 * opt-out of one sender or service, is just that scope's id, because its time
 * is never needed: only an account-wide opt-out is ever weighed against a
 * later opt-in. Other states (account-wide opt-outs, opt-ins, several
 * records) live in a side array, referenced by a negative int.
 */
import type { InternalEventV2 } from '../envelope';
import { E164Table } from './e164-table';

const SENDER = 0;
const SERVICE = 1;
const ACCOUNT = 2;
/** The account's do-not-call list (outbound calls); never consulted for texts. */
const VOICE = 3;
type ScopeKind = typeof SENDER | typeof SERVICE | typeof ACCOUNT | typeof VOICE;

class Scope {
  constructor(
    /** Index in ConsentStore.scopeList: what the table stores for a bare opt-out. */
    readonly id: number,
    readonly account: string,
    readonly kind: ScopeKind,
    /** The sender number (SENDER), the MG SID (SERVICE), or '' (ACCOUNT, VOICE). */
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
    | { kind: 'account' }
    | { kind: 'voice' };
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
  private readonly table = new E164Table();
  // Keys the table refuses (not E.164): consent events are validated, so normally empty.
  private readonly other = new Map<string, NumberState>();
  private complex: (NumberState | undefined)[] = [];
  private freeComplex: number[] = [];
  private readonly scopes = new Map<string, Scope>();
  private readonly scopeList: Scope[] = [];
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
    const v = this.table.get(number);
    let state: NumberState | undefined;
    if (v === undefined) {
      if (this.other.size === 0) return false;
      state = this.other.get(number);
      if (state === undefined) return false;
    } else if (v >= 0) {
      const s = this.scopeList[v]!;
      return s.account === accountSid && matches(s, sender);
    } else {
      state = this.complex[-v - 1]!;
    }
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
   * True when `number` (E.164) is on this account's do-not-call list (a
   * consent record with the `voice` scope): no outbound call may ring it.
   * Text opt-outs (STOP, STOPALL) do not put a number on it.
   */
  isDoNotCall(accountSid: string, number: string): boolean {
    const state = this.getState(number);
    if (state === undefined) return false;
    const one = (e: Entry) => e instanceof Scope && e.kind === VOICE && e.account === accountSid;
    return Array.isArray(state) ? state.some(one) : one(state);
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
          : this.scope(event.tenant.accountSid, s.kind === 'voice' ? VOICE : ACCOUNT, '');
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
    else if (scopePart === 'voice') [kind, target] = [VOICE, ''];
    else if (scopePart.startsWith('sender:')) [kind, target] = [SENDER, scopePart.slice(7)];
    else if (scopePart.startsWith('ms:')) [kind, target] = [SERVICE, scopePart.slice(3)];
    else return false;
    const scope = this.scopes.get(scopeId(account, kind, target));
    return scope !== undefined && this.remove(number, scope);
  }

  /** The records held for one number of one account (for the admin API and tests). */
  entries(accountSid: string, number: string): ConsentEntry[] {
    const state = this.getState(number);
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
                : s.kind === VOICE
                  ? { kind: 'voice' }
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
    this.table.clear();
    this.other.clear();
    this.complex = [];
    this.freeComplex = [];
    this.optedOutNumberCount = 0;
    this.recordCount = 0;
    this.gauge?.set(0);
  }

  private scope(account: string, kind: ScopeKind, target: string): Scope {
    const id = scopeId(account, kind, target);
    let scope = this.scopes.get(id);
    if (scope === undefined) {
      scope = new Scope(this.scopeList.length, account, kind, target);
      this.scopes.set(id, scope);
      this.scopeList.push(scope);
    }
    return scope;
  }

  private set(number: string, scope: Scope, optedOut: boolean, at: number): boolean {
    // An account-wide (or do-not-call) opt-in has no cross-scope meaning: it just removes the opt-out.
    if ((scope.kind === ACCOUNT || scope.kind === VOICE) && !optedOut) return this.remove(number, scope);
    const entry: Entry = optedOut && scope.kind !== ACCOUNT ? scope : new TimedRecord(scope, optedOut, at);
    const state = this.getState(number);
    const before = state !== undefined && anyOptedOut(state);
    let next: NumberState;
    if (state === undefined) {
      next = entry;
      this.recordCount++;
    } else if (Array.isArray(state)) {
      const i = state.findIndex((e) => scopeOf(e) === scope);
      if (i >= 0 && sameEntry(state[i]!, entry)) return false;
      if (i >= 0) state[i] = entry;
      else {
        state.push(entry);
        this.recordCount++;
      }
      next = state;
    } else if (scopeOf(state) === scope) {
      if (sameEntry(state, entry)) return false;
      next = entry;
    } else {
      next = [state, entry];
      this.recordCount++;
    }
    this.putState(number, next);
    this.countChange(before, anyOptedOut(next));
    return true;
  }

  private remove(number: string, scope: Scope): boolean {
    const state = this.getState(number);
    if (state === undefined) return false;
    const before = anyOptedOut(state);
    let rest: NumberState | undefined;
    if (!Array.isArray(state)) {
      if (scopeOf(state) !== scope) return false;
      rest = undefined;
    } else {
      const i = state.findIndex((e) => scopeOf(e) === scope);
      if (i < 0) return false;
      state.splice(i, 1);
      rest = state.length === 1 ? state[0]! : state;
    }
    this.putState(number, rest);
    this.recordCount--;
    this.countChange(before, rest !== undefined && anyOptedOut(rest));
    return true;
  }

  private getState(number: string): NumberState | undefined {
    const v = this.table.get(number);
    if (v === undefined) return this.other.size === 0 ? undefined : this.other.get(number);
    return v >= 0 ? this.scopeList[v] : this.complex[-v - 1];
  }

  private putState(number: string, state: NumberState | undefined): void {
    const old = this.table.get(number);
    if (old !== undefined && old < 0) {
      if (this.complex[-old - 1] === state) return;
      this.complex[-old - 1] = undefined;
      this.freeComplex.push(-old - 1);
    }
    if (state === undefined) {
      if (!this.table.delete(number)) this.other.delete(number);
      return;
    }
    if (state instanceof Scope) {
      if (!this.table.set(number, state.id)) this.other.set(number, state);
      return;
    }
    const slot = this.freeComplex.pop() ?? this.complex.length;
    this.complex[slot] = state;
    if (!this.table.set(number, -slot - 1)) {
      this.complex[slot] = undefined;
      this.freeComplex.push(slot);
      this.other.set(number, state);
    }
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
