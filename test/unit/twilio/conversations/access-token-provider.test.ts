import { verifyAccessToken } from '@ingress-egress/twilio-simulator';
import { createAccessTokenProvider } from '../../../../src/twilio/conversations/access-token-provider';
import { ACCOUNT, SERVICE } from './fakes';

const KEY = 'SK' + 'd'.repeat(32);

describe('createAccessTokenProvider', () => {
  const opts = {
    accountSid: ACCOUNT,
    apiKeySid: KEY,
    apiKeySecret: 'key-secret',
    serviceSid: SERVICE,
    identity: 'bot',
    ttlSecs: 600,
  };

  it('mints an API-key JWT with the identity, a chat grant for the service and the TTL', () => {
    const token = createAccessTokenProvider(opts, { now: () => 1_000_000 })();
    expect(token).toMatchObject({ issuedAt: 1_000_000, expiresAt: 1_600_000 });
    const payload = JSON.parse(Buffer.from(token.jwt.split('.')[1]!, 'base64url').toString()) as {
      iss: string;
      sub: string;
      exp: number;
      iat: number;
      grants: { identity: string; chat: { service_sid: string } };
    };
    expect(payload).toMatchObject({
      iss: KEY,
      sub: ACCOUNT,
      grants: { identity: 'bot', chat: { service_sid: SERVICE } },
    });
    expect(payload.exp - payload.iat).toBe(600);
    const check = verifyAccessToken(token.jwt, {
      apiKeys: { [KEY]: 'key-secret' },
      serviceSid: SERVICE,
      nowMs: Date.now(),
    });
    expect(check).toMatchObject({ ok: true, token: { identity: 'bot', apiKeySid: KEY } });
  });

  it('is refused when signed with another secret, for another service or expired', () => {
    const jwt = createAccessTokenProvider(opts)().jwt;
    expect(
      verifyAccessToken(jwt, { apiKeys: { [KEY]: 'other' }, serviceSid: SERVICE, nowMs: Date.now() }),
    ).toMatchObject({
      ok: false,
      reason: 'signature',
    });
    expect(
      verifyAccessToken(jwt, {
        apiKeys: { [KEY]: 'key-secret' },
        serviceSid: 'IS' + '0'.repeat(32),
        nowMs: Date.now(),
      }),
    ).toMatchObject({ ok: false, reason: 'grant' });
    expect(
      verifyAccessToken(jwt, { apiKeys: { [KEY]: 'key-secret' }, serviceSid: SERVICE, nowMs: Date.now() + 601_000 }),
    ).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('never mints the same token twice, even within one second (the SDK ignores an unchanged token)', () => {
    const mint = createAccessTokenProvider(opts);
    const jwts = new Set(Array.from({ length: 5 }, () => mint().jwt));
    expect(jwts.size).toBe(5);
  });

  it('refuses a TTL outside 3 minutes to 24 hours', () => {
    expect(() => createAccessTokenProvider({ ...opts, ttlSecs: 179 })).toThrow(RangeError);
    expect(() => createAccessTokenProvider({ ...opts, ttlSecs: 86_401 })).toThrow(RangeError);
  });
});
