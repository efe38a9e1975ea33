import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks a Twilio access token the way the Conversations service does: an
 * HS256 JWT signed with an API key secret, issued by that key (`iss`), for an
 * account (`sub`), carrying an identity and a chat grant for the service.
 */
export interface VerifiedToken {
  identity: string;
  accountSid: string;
  apiKeySid: string;
  serviceSid: string;
  /** Expiry, milliseconds since the epoch. */
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; token: VerifiedToken }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'grant'; message: string };

interface JwtPayload {
  iss?: unknown;
  sub?: unknown;
  exp?: unknown;
  grants?: { identity?: unknown; chat?: { service_sid?: unknown } };
}

function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

export function verifyAccessToken(
  jwt: string,
  opts: { apiKeys: Readonly<Record<string, string>>; serviceSid: string; nowMs: number },
): TokenCheck {
  const parts = jwt.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed', message: 'not a JWT' };
  const [h, p, s] = parts as [string, string, string];
  let payload: JwtPayload;
  try {
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JwtPayload;
  } catch {
    return { ok: false, reason: 'malformed', message: 'unreadable payload' };
  }
  const iss = typeof payload.iss === 'string' ? payload.iss : '';
  const secret = opts.apiKeys[iss];
  if (secret === undefined) return { ok: false, reason: 'signature', message: 'unknown API key' };
  const expected = Buffer.from(b64url(createHmac('sha256', secret).update(`${h}.${p}`).digest()));
  const given = Buffer.from(s);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'signature', message: 'invalid signature' };
  }
  const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : 0;
  if (exp <= opts.nowMs) return { ok: false, reason: 'expired', message: 'token expired' };
  const identity = payload.grants?.identity;
  const serviceSid = payload.grants?.chat?.service_sid;
  if (typeof identity !== 'string' || identity === '' || serviceSid !== opts.serviceSid) {
    return { ok: false, reason: 'grant', message: 'no chat grant for this service' };
  }
  return {
    ok: true,
    token: {
      identity,
      accountSid: typeof payload.sub === 'string' ? payload.sub : '',
      apiKeySid: iss,
      serviceSid,
      expiresAt: exp,
    },
  };
}
