import twilio from 'twilio';

/**
 * Mints the access tokens the Conversations session runs on: an API key
 * (never the auth token), one identity, a chat grant for the service and a
 * time to live. Tokens are secrets: they are passed to the SDK and never logged.
 */
export interface AccessTokenOptions {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  serviceSid: string;
  identity: string;
  /** Seconds; Twilio accepts 3 minutes to 24 hours for Conversations. */
  ttlSecs: number;
}

export interface MintedToken {
  jwt: string;
  /** Milliseconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

export type TokenProvider = () => MintedToken;

export const MIN_TOKEN_TTL_SECS = 180;
export const MAX_TOKEN_TTL_SECS = 86_400;

export function createAccessTokenProvider(opts: AccessTokenOptions, now: () => number = Date.now): TokenProvider {
  if (opts.ttlSecs < MIN_TOKEN_TTL_SECS || opts.ttlSecs > MAX_TOKEN_TTL_SECS) {
    throw new RangeError(`token ttl must be between ${MIN_TOKEN_TTL_SECS} and ${MAX_TOKEN_TTL_SECS} seconds`);
  }
  const { AccessToken } = twilio.jwt;
  return () => {
    const issuedAt = now();
    const token = new AccessToken(opts.accountSid, opts.apiKeySid, opts.apiKeySecret, {
      identity: opts.identity,
      ttl: opts.ttlSecs,
    });
    token.addGrant(new AccessToken.ChatGrant({ serviceSid: opts.serviceSid }));
    return { jwt: token.toJwt(), issuedAt, expiresAt: issuedAt + opts.ttlSecs * 1000 };
  };
}
