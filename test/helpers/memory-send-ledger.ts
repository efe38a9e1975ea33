import { LedgerTable } from '../../src/twilio/egress/ledger-table';
import type { LedgerEntry, SendLedger } from '../../src/twilio/egress/send-ledger';

/**
 * A ledger that lives in this process only: for unit tests and single-process
 * tools. It forgets everything on restart, so production uses KafkaSendLedger.
 */
export class MemorySendLedger implements SendLedger {
  readonly table: LedgerTable;
  /** Every write in order (tests inspect it). */
  readonly writes: LedgerEntry[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    maxEntries?: number,
  ) {
    this.table = new LedgerTable(maxEntries);
  }

  forgottenBefore(): number {
    return this.table.forgottenUpTo;
  }

  get(key: string): LedgerEntry | undefined {
    return this.table.get(key);
  }

  byRequest(requestId: string): LedgerEntry[] {
    return this.table.byRequest(requestId);
  }

  byMessageSid(messageSid: string): LedgerEntry | undefined {
    return this.table.byMessageSid(messageSid);
  }

  async recordIntent(entry: Omit<LedgerEntry, 'state' | 'updatedAt'>): Promise<void> {
    this.write({ ...entry, state: 'intent', updatedAt: this.now() });
  }

  async recordSent(entry: Omit<LedgerEntry, 'state' | 'updatedAt'> & { messageSid: string }): Promise<void> {
    this.write({ ...entry, state: 'sent', updatedAt: this.now() });
  }

  async restore(): Promise<void> {}

  private write(e: LedgerEntry): void {
    this.writes.push(e);
    this.table.apply(e);
  }
}
