import { createHash } from 'node:crypto';

/** What an API token may do: `send` (send, cancel), `read` (look-ups), `admin` (consent, DLQ; implies the others). */
export const API_SCOPES = ['send', 'read', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** One configured API token: its name (for the audit log) and scopes; the token itself only as a SHA-256 digest. */
export interface ApiTokenEntry {
  name: string;
  scopes: readonly ApiScope[];
  /** SHA-256 of the token (hex). The plain token is never kept. */
  sha256: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const TOKEN = /^[\x21-\x2b\x2d-\x7e]{16,512}$/; // printable ASCII without space or comma

/** SHA-256 of a token, hex. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * `API_TOKENS`: comma-separated `name:scope+scope:token` entries, e.g.
 * `backend:send+read:3f9c…,ops:admin:77aa…`. Returns the entries with hashed
 * tokens, or a message that never quotes a token.
 */
export function parseApiTokens(raw: string): { entries: ApiTokenEntry[] } | { error: string } {
  const entries: ApiTokenEntry[] = [];
  const names = new Set<string>();
  const hashes = new Set<string>();
  const items = raw
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  for (const [i, item] of items.entries()) {
    const first = item.indexOf(':');
    const second = first < 0 ? -1 : item.indexOf(':', first + 1);
    if (second < 0) return { error: `entry ${i + 1} must be name:scopes:token` };
    const name = item.slice(0, first);
    const scopeList = item.slice(first + 1, second).split('+');
    const token = item.slice(second + 1);
    if (!NAME.test(name)) return { error: `entry ${i + 1} has a bad name (letters, digits, _ . -; 1-64)` };
    if (names.has(name)) return { error: `entry ${i + 1} repeats the name ${name}` };
    if (scopeList.length === 0 || !scopeList.every((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s)))
      return { error: `entry ${i + 1} (${name}) must have scopes from ${API_SCOPES.join(', ')} joined by +` };
    if (!TOKEN.test(token))
      return {
        error: `entry ${i + 1} (${name}) needs a token of 16-512 printable characters without spaces or commas`,
      };
    const sha256 = hashApiToken(token);
    if (hashes.has(sha256)) return { error: `entry ${i + 1} (${name}) reuses another entry's token` };
    names.add(name);
    hashes.add(sha256);
    entries.push({ name, scopes: [...new Set(scopeList)], sha256 });
  }
  return { entries };
}
