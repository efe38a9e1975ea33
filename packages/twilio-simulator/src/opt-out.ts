/**
 * The simulator's own STOP list, kept the way Twilio's Advanced Opt-Out does
 * with its default keywords: a single-word reply, any case, surrounding
 * whitespace ignored. An opt-out applies to the sender scope it was sent to
 * (the Messaging Service when the number belongs to one, else the number).
 */
export type OptOutType = 'STOP' | 'START' | 'HELP';

export const OPT_OUT_KEYWORDS: Readonly<Record<OptOutType, readonly string[]>> = {
  STOP: ['STOP', 'UNSUBSCRIBE', 'END', 'QUIT', 'STOPALL', 'REVOKE', 'OPTOUT', 'CANCEL'],
  START: ['START', 'YES', 'UNSTOP'],
  HELP: ['HELP', 'INFO'],
};

const KEYWORD_TYPE = new Map<string, OptOutType>();
for (const [type, words] of Object.entries(OPT_OUT_KEYWORDS) as [OptOutType, readonly string[]][]) {
  for (const w of words) KEYWORD_TYPE.set(w, type);
}

/** The OptOutType Twilio would attach to an inbound body, if any. */
export function optOutTypeOf(body: string): OptOutType | undefined {
  const word = body.trim().toUpperCase();
  if (word === '' || /\s/.test(word)) return undefined;
  return KEYWORD_TYPE.get(word);
}

/** Scope meaning "every sender of the account" (used when tests seed the list). */
export const ANY_SENDER = '*';

export interface OptOutEntry {
  accountSid: string;
  phone: string;
  scope: string;
}

export class OptOutList {
  private readonly entries = new Map<string, OptOutEntry>();

  add(accountSid: string, phone: string, scope: string = ANY_SENDER): void {
    this.entries.set(key(accountSid, phone, scope), { accountSid, phone, scope });
  }

  /** START removes the opt-out for that scope, and an account-wide one too (a START is a clear opt-in). */
  remove(accountSid: string, phone: string, scope: string = ANY_SENDER): void {
    this.entries.delete(key(accountSid, phone, scope));
    this.entries.delete(key(accountSid, phone, ANY_SENDER));
  }

  /** Whether sending from any of `senders` (number, messaging service) to `phone` is blocked. */
  isOptedOut(accountSid: string, phone: string, senders: readonly (string | null)[]): boolean {
    if (this.entries.size === 0) return false;
    if (this.entries.has(key(accountSid, phone, ANY_SENDER))) return true;
    return senders.some((s) => s !== null && this.entries.has(key(accountSid, phone, s)));
  }

  list(): OptOutEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries.clear();
  }
}

function key(accountSid: string, phone: string, scope: string): string {
  return `${accountSid}|${scope}|${phone}`;
}
