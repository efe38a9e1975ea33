/**
 * The send ledger: what egress knows about each (request id, recipient) it
 * has tried to text. It is consulted before sending and written twice per
 * send: an `intent` right before the first call to Twilio and `sent` right
 * after Twilio accepted. Whoever finds an `intent` without `sent` (after a
 * crash, a rebalance or a retry) must reconcile against Twilio before any
 * resend, because the message may exist.
 */
export type LedgerState = 'intent' | 'sent';

export interface LedgerEntry {
  /** `requestId|recipient`. */
  key: string;
  state: LedgerState;
  requestId: string;
  recipient: string;
  accountSid: string;
  /** When the first attempt began (ms since epoch): reconciliation lists messages from here on. */
  attemptAt: number;
  /** The instance that wrote the intent (a process id: a restarted process is a new owner). */
  owner: string;
  /** Last write (ms since epoch); entries older than the retention are forgotten. */
  updatedAt: number;
  messageSid?: string | undefined;
  status?: string | undefined;
  numSegments?: number | undefined;
  encoding?: 'GSM-7' | 'UCS-2' | undefined;
  attempts?: number | undefined;
}

export interface SendLedger {
  get(key: string): LedgerEntry | undefined;
  /** Every entry of one request (bulk requests have one per recipient). */
  byRequest(requestId: string): LedgerEntry[];
  /** The entry that claimed this MessageSid, if any (reconciliation must not claim a message twice). */
  byMessageSid(messageSid: string): LedgerEntry | undefined;
  /**
   * Entries last written at or before this time (ms since epoch) may have been forgotten: the ledger keeps a
   * bounded number in memory and none past its retention. An absent entry proves a request new only when the
   * request is younger than this (see `unknownSince`).
   */
  forgottenBefore(): number;
  /** Resolves once the intent is durable. */
  recordIntent(entry: Omit<LedgerEntry, 'state' | 'updatedAt'>): Promise<void>;
  /** Resolves once the sent record is durable. */
  recordSent(entry: Omit<LedgerEntry, 'state' | 'updatedAt'> & { messageSid: string }): Promise<void>;
  /**
   * Resolves once every record other instances made durable before this call
   * is visible here. The egress consumer calls it when partitions are assigned,
   * before it handles their records.
   */
  restore(): Promise<void>;
}

export function ledgerKey(requestId: string, recipient: string): string {
  return `${requestId}|${recipient}`;
}

/**
 * How far the clocks that stamp a request (its producer's `ingestedAt`, the Kafka record timestamp) may be behind
 * the clock that stamped the ledger entries: a request this close to the ledger's horizon is treated as older.
 */
export const FORGOTTEN_SKEW_MS = 60_000;

/**
 * Whether an absent ledger entry leaves the request's fate unknown: the request (as old as the earlier of its
 * `ingestedAt` and its Kafka record timestamp) may have been handled before the ledger's horizon, so its entry may
 * be among the forgotten ones. Such a request is reconciled against Twilio before it is sent.
 */
export function mayBeForgotten(ledger: SendLedger, requestTime: number): boolean {
  const horizon = ledger.forgottenBefore();
  return horizon !== Number.NEGATIVE_INFINITY && requestTime <= horizon + FORGOTTEN_SKEW_MS;
}

/**
 * For a request with no ledger entry: undefined when the absence proves it new, else the time (ms) from which
 * Twilio must be asked whether it was sent (its request time less the allowed clock skew), because its entry may be
 * among the forgotten ones. Both ledger stages (SMS and voice) start with this.
 */
export function unknownSince(
  ledger: SendLedger,
  ingestedAt: string,
  recordTimestamp: number | undefined,
): number | undefined {
  const sentBy = requestTime(ingestedAt, recordTimestamp);
  return mayBeForgotten(ledger, sentBy) ? sentBy - FORGOTTEN_SKEW_MS : undefined;
}

/** The earlier of a request's `ingestedAt` and its Kafka record timestamp (ms); a time that does not parse is ignored. */
export function requestTime(ingestedAt: string, recordTimestamp: number | undefined): number {
  const t = Date.parse(ingestedAt);
  const times = [t, recordTimestamp ?? Number.NaN].filter((x) => Number.isFinite(x));
  return times.length === 0 ? Number.NEGATIVE_INFINITY : Math.min(...times);
}
