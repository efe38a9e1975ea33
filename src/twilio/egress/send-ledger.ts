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
