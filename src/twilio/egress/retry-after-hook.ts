import type twilio from 'twilio';

import { RETRY_AFTER_DETAIL } from '../rest/error-map';

type RequestFn = (opts: unknown) => Promise<{ statusCode: number; body: unknown; headers: unknown }>;

const HOOKED = Symbol.for('ingress-egress.retry-after-hook');

/**
 * The SDK's RestException keeps the status and the JSON body but drops the
 * headers, so a 429's Retry-After would be lost. This wraps the client's
 * RequestClient once: on an error answer with Retry-After, the seconds are
 * added to the body's `details`, which RestException keeps.
 */
export function keepRetryAfter(client: twilio.Twilio): void {
  const http = client.httpClient as unknown as { request: RequestFn; [HOOKED]?: true };
  if (!http || typeof http.request !== 'function' || http[HOOKED]) return;
  const original = http.request.bind(http);
  http.request = async (opts: unknown) => {
    const res = await original(opts);
    if (res.statusCode >= 400) {
      const seconds = retryAfterSeconds(res.headers);
      if (seconds !== undefined) res.body = withRetryAfter(res.body, seconds);
    }
    return res;
  };
  http[HOOKED] = true;
}

/** The body (JSON text, as our transport returns it, or an object, as axios does) with the seconds in `details`. */
function withRetryAfter(body: unknown, seconds: number): unknown {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body;
    }
  }
  if (parsed === null || typeof parsed !== 'object') return body;
  const b = parsed as { details?: unknown };
  const details = b.details && typeof b.details === 'object' ? b.details : {};
  b.details = { ...details, [RETRY_AFTER_DETAIL]: seconds };
  return typeof body === 'string' ? JSON.stringify(b) : b;
}

function retryAfterSeconds(headers: unknown): number | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown>;
  const raw = h['retry-after'] ?? h['Retry-After'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const n = Number(v);
  if (Number.isFinite(n) && n >= 0) return n;
  // An HTTP date.
  const at = Date.parse(String(v));
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}
