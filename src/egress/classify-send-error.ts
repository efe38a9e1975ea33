import type { SendFailure } from './delivery';
import { safeReason } from './decisions';
import { RETRY_AFTER_DETAIL } from './retry-after-hook';

/**
 * Classifies an error thrown by a Messages API call. Provisional table until
 * src/twilio/error-map lands; the egress pipeline depends only on SendFailure.
 */
export function classifySendError(err: unknown): SendFailure {
  const e = (err ?? {}) as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    details?: unknown;
    response?: unknown;
  };
  const message = safeReason(typeof e.message === 'string' ? e.message : 'Twilio call failed');
  const status = typeof e.status === 'number' ? e.status : undefined;
  const twilioCode = typeof e.code === 'number' ? e.code : undefined;
  const netCode = typeof e.code === 'string' ? e.code : undefined;
  const base = { twilioErrorCode: twilioCode, status, message };
  if (status !== undefined) {
    if (twilioCode === 21610) {
      return {
        ...base,
        type: 'opted_out',
        retriable: false,
        ambiguous: false,
        consent: true,
        outage: false,
        configuration: false,
      };
    }
    if (status === 429 || twilioCode === 20429) {
      return {
        ...base,
        type: 'rate_limited',
        retriable: true,
        ambiguous: false,
        consent: false,
        outage: false,
        configuration: false,
        retryAfterMs: retryAfterMs(e.details),
      };
    }
    if (status >= 500) {
      return {
        ...base,
        type: 'server_error',
        retriable: true,
        ambiguous: status === 504,
        consent: false,
        outage: true,
        configuration: false,
      };
    }
    if (status === 401 || status === 403 || status === 404) {
      return {
        ...base,
        type: 'auth',
        retriable: false,
        ambiguous: false,
        consent: false,
        outage: false,
        configuration: true,
      };
    }
    return {
      ...base,
      type: 'rejected',
      retriable: false,
      ambiguous: false,
      consent: false,
      outage: false,
      configuration: false,
    };
  }
  if (netCode !== undefined) {
    const neverSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(netCode);
    const timeout = netCode === 'ECONNABORTED' || netCode === 'ETIMEDOUT' || /timeout/i.test(message);
    return {
      ...base,
      type: timeout ? 'timeout' : 'network',
      retriable: true,
      ambiguous: !neverSent,
      consent: false,
      outage: true,
      configuration: false,
    };
  }
  return {
    ...base,
    type: 'internal',
    retriable: false,
    ambiguous: false,
    consent: false,
    outage: false,
    configuration: true,
  };
}

function retryAfterMs(details: unknown): number | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const v = (details as Record<string, unknown>)[RETRY_AFTER_DETAIL];
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) : undefined;
}
