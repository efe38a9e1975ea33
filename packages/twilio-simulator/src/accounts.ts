import { timingSafeEqual } from 'node:crypto';
import type { SimulatorAccount } from './options';

/**
 * HTTP Basic auth as Twilio's REST API takes it: the account SID with its auth
 * token, or an API key SID with its secret, for the account named in the path.
 * Decoded headers are cached, so the hot path is one map lookup.
 */
export interface AuthResult {
  ok: boolean;
  /** The user name presented (account or key SID); never the secret. */
  username: string | undefined;
}

const MAX_CACHE = 1024;

export class AccountRegistry {
  private readonly tokens = new Map<string, string>();
  /** key SID → { account, secret } */
  private readonly keys = new Map<string, { accountSid: string; secret: string }>();
  private readonly cache = new Map<string, { username: string; allowed: ReadonlySet<string> }>();

  constructor(accounts: readonly SimulatorAccount[]) {
    for (const a of accounts) {
      this.tokens.set(a.accountSid, a.authToken);
      for (const k of a.apiKeys ?? []) this.keys.set(k.sid, { accountSid: a.accountSid, secret: k.secret });
    }
  }

  has(accountSid: string): boolean {
    return this.tokens.has(accountSid);
  }

  /** The token webhooks of this account are signed with. */
  authToken(accountSid: string): string | undefined {
    return this.tokens.get(accountSid);
  }

  get firstAccountSid(): string {
    const first = this.tokens.keys().next();
    return first.done ? '' : first.value;
  }

  authenticate(header: string | undefined, accountSid: string): AuthResult {
    if (!header) return { ok: false, username: undefined };
    let entry = this.cache.get(header);
    if (!entry) {
      entry = this.decode(header);
      // Bounded: a client cycling through bad credentials must not grow memory.
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(header, entry);
    }
    return { ok: entry.allowed.has(accountSid), username: entry.username || undefined };
  }

  private decode(header: string): { username: string; allowed: ReadonlySet<string> } {
    const none = new Set<string>();
    const m = /^Basic\s+(.+)$/i.exec(header.trim());
    if (!m?.[1]) return { username: '', allowed: none };
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return { username: '', allowed: none };
    const username = decoded.slice(0, i);
    const password = decoded.slice(i + 1);
    const token = this.tokens.get(username);
    if (token !== undefined) return { username, allowed: safeEqual(password, token) ? new Set([username]) : none };
    const key = this.keys.get(username);
    if (key) return { username, allowed: safeEqual(password, key.secret) ? new Set([key.accountSid]) : none };
    return { username, allowed: none };
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
