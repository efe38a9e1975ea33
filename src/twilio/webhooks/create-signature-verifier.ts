import type { WebhookSigning } from '../../config';
import { IngressEgressError } from '../../errors';
import type { Logger } from '../../observability';
import { normaliseBaseUrl } from './public-url';
import { SignatureVerifier } from './signature-verifier';

/**
 * The one signature verifier every Twilio webhook route uses (Messaging,
 * Voice, Conversations), from the configuration's signing section: undefined
 * only when checking is switched off by choice (TWILIO_WEBHOOK_VALIDATION=false,
 * refused in production; logged as a warning). A route built from a
 * configuration that serves no webhook (no public base URL was demanded) fails
 * closed instead of going unchecked.
 */
export function createSignatureVerifier(signing: WebhookSigning, logger: Logger): SignatureVerifier | undefined {
  if (signing.verify) {
    return new SignatureVerifier({ authTokens: signing.authTokens, baseUrl: normaliseBaseUrl(signing.baseUrl) });
  }
  if (signing.why === 'no-webhooks') {
    throw new IngressEgressError(
      'IE_CONFIG_INVALID',
      'TWILIO_WEBHOOK_BASE_URL is required to validate webhook signatures (the public URL Twilio signs)',
    );
  }
  logger.warn('webhook signature validation is OFF (TWILIO_WEBHOOK_VALIDATION=false)');
  return undefined;
}
