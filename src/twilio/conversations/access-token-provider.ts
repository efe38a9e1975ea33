import { systemClock, type Clock } from '../../common/clock';
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

export function createAccessTokenProvider(
  opts: AccessTokenOptions,
  clock: Pick<Clock, 'now'> = systemClock,
): TokenProvider {
  if (opts.ttlSecs < MIN_TOKEN_TTL_SECS || opts.ttlSecs > MAX_TOKEN_TTL_SECS) {
    throw new RangeError(`token ttl must be between ${MIN_TOKEN_TTL_SECS} and ${MAX_TOKEN_TTL_SECS} seconds`);
  }
  const { AccessToken } = twilio.jwt;
  let lastSecond = 0;
  let sameSecond = 0;
  return () => {
    const issuedAt = clock.now();
    // Two tokens minted in the same second would be byte-identical (the JWT
    // only has second resolution) and the SDK ignores a token equal to the one
    // it holds, so an expired session would never reconnect. A not-before a
    // second or two in the past keeps each token distinct and changes nothing else.
    const second = Math.floor(Date.now() / 1000);
    sameSecond = second === lastSecond ? sameSecond + 1 : 0;
    lastSecond = second;
    const token = new AccessToken(opts.accountSid, opts.apiKeySid, opts.apiKeySecret, {
      identity: opts.identity,
      ttl: opts.ttlSecs,
      nbf: second - sameSecond,
    });
    token.addGrant(new AccessToken.ChatGrant({ serviceSid: opts.serviceSid }));
    return { jwt: token.toJwt(), issuedAt, expiresAt: issuedAt + opts.ttlSecs * 1000 };
  };
}
