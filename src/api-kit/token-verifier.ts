import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiScope, ApiTokenEntry } from '../config';

/** A token that matched: its name and scopes (never the token). */
export interface ApiCaller {
  name: string;
  scopes: readonly ApiScope[];
}

/**
 * Checks presented bearer tokens against the configured ones. Only SHA-256
 * digests are held; a presented token is hashed and compared with every
 * digest in constant time (no early exit), so neither the match nor its
 * position leaks through timing.
 */
export class ApiTokenVerifier {
  private readonly entries: { caller: ApiCaller; digest: Buffer }[];

  constructor(entries: readonly ApiTokenEntry[]) {
    this.entries = entries.map((e) => ({
      caller: { name: e.name, scopes: [...e.scopes] },
      digest: Buffer.from(e.sha256, 'hex'),
    }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The caller a token belongs to, or undefined. */
  verify(token: string): ApiCaller | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: ApiCaller | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(digest, e.digest) && !found) found = e.caller;
    }
    return found;
  }
}

/** `admin` may do everything; otherwise the scope must be listed. */
export function hasScope(caller: ApiCaller, scope: ApiScope): boolean {
  return caller.scopes.includes(scope) || caller.scopes.includes('admin');
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m?.[1];
}
