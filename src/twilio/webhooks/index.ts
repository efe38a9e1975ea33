export {
  createWebhookRoutes,
  WEBHOOK_DEFAULTS,
  type WebhookContext,
  type WebhookOptions,
} from './create-webhook-routes';
export { SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH } from './webhook-routes';
export { EMPTY_TWIML } from './webhook-replies';
export { SignatureVerifier, type SignatureCheck, type SignatureFailure } from './signature-verifier';
export { parseFormBody, parseJsonBody, type WebhookBody, type RawParams } from './webhook-body';
export { publicUrlFor } from './public-url';
