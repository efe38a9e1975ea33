import { validateRequest, validateRequestWithBody } from 'twilio';
import { publicUrlFor } from './public-url';
import type { WebhookBody } from './webhook-body';

export type SignatureFailure = 'missing' | 'invalid' | 'unknown_account' | 'missing_account';

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure; status: 400 | 403 };

export interface SignatureVerifierOptions {
  /** Account SID → auth token; subaccounts sign with their own token. */
  authTokens: Readonly<Record<string, string>>;
  /** The public base URL Twilio calls (TWILIO_WEBHOOK_BASE_URL). */
  baseUrl: string;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

/**
 * Checks X-Twilio-Signature with the twilio SDK (its URL-port and query
 * quirks and constant-time comparison), against the public URL Twilio called,
 * with the auth token of the account named in the payload.
 */
export class SignatureVerifier {
  private readonly tokens: ReadonlyMap<string, string>;

  constructor(private readonly options: SignatureVerifierOptions) {
    this.tokens = new Map(Object.entries(options.authTokens));
  }

  verify(signature: string | undefined, requestUrl: string, body: WebhookBody): SignatureCheck {
    if (!signature) return { ok: false, reason: 'missing', status: 400 };
    const accountSid = body.params.AccountSid;
    // Without a well-formed account there is no token to check with; that is a
    // malformed request rather than a forged one.
    if (typeof accountSid !== 'string' || !ACCOUNT_SID.test(accountSid)) {
      return { ok: false, reason: 'missing_account', status: 400 };
    }
    const token = this.tokens.get(accountSid);
    if (token === undefined) return { ok: false, reason: 'unknown_account', status: 403 };
    const url = publicUrlFor(this.options.baseUrl, requestUrl);
    return this.check(token, signature, url, body) ? { ok: true } : { ok: false, reason: 'invalid', status: 403 };
  }

  private check(token: string, signature: string, url: string, body: WebhookBody): boolean {
    try {
      // A JSON body is covered only through the bodySHA256 query parameter.
      if (body.kind === 'json')
        return url.includes('bodySHA256=') && validateRequestWithBody(token, signature, url, body.raw);
      return validateRequest(token, signature, url, body.params);
    } catch {
      // The SDK parses the URL with `new URL()` on its fallback path; a URL it
      // cannot parse was not signed by Twilio.
      return false;
    }
  }
}
