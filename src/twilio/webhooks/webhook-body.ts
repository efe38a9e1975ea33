import { parse as parseQueryString } from 'node:querystring';

/** Parameter values as Twilio sent them; a repeated name becomes an array (the SDK signs arrays too). */
export type RawParams = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A webhook body kept raw next to its parameters: form bodies are signed as
 * parameters, JSON bodies through the `bodySHA256` hash of the exact bytes, so
 * the raw text must survive parsing.
 */
export interface WebhookBody {
  readonly kind: 'form' | 'json';
  readonly raw: string;
  readonly params: RawParams;
}

export class WebhookBodyError extends Error {
  readonly statusCode = 400;
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WebhookBodyError';
  }
}

export function parseFormBody(raw: string): WebhookBody {
  // querystring (not URLSearchParams) because it is several times faster on
  // small bodies and decodes `+` as a space exactly like Twilio encodes it.
  return { kind: 'form', raw, params: parseQueryString(raw) };
}

/**
 * JSON webhooks carry the same flat parameter names; scalars become strings
 * like their form-encoded twins. Nested values are not Twilio parameters we
 * read, so they are left out of `params` (the body hash still covers them).
 */
export function parseJsonBody(raw: string): WebhookBody {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new WebhookBodyError('body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhookBodyError('JSON body must be an object');
  }
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') params[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') params[k] = String(v);
  }
  return { kind: 'json', raw, params };
}

export function isWebhookBody(body: unknown): body is WebhookBody {
  return typeof body === 'object' && body !== null && 'kind' in body && 'raw' in body && 'params' in body;
}
