/**
 * Twilio's webhook connection overrides, read from the URL fragment
 * (`https://host/path#ct=1000&rt=5000&tt=8000&rc=2&rp=5xx,rt`). The fragment is
 * never sent to the server. Out-of-range values are clamped to Twilio's limits;
 * an unknown retry policy falls back to the default, as Twilio ignores it
 * (and logs error 11243).
 */
export type RetryClass = 'ct' | 'rt' | '4xx' | '5xx';

export interface ConnectionOverrides {
  /** Connect timeout, ms (100–10,000; default 5,000). */
  connectTimeoutMs: number;
  /** Read timeout, ms (100–15,000; default 15,000). */
  readTimeoutMs: number;
  /** Total time for every attempt together, ms (100–15,000; default 15,000). */
  totalTimeoutMs: number;
  /** Retries after the first attempt (0–5; default 1). */
  retryCount: number;
  /** Failure classes that are retried (default: connect failures only). */
  retryPolicy: ReadonlySet<RetryClass>;
}

export const DEFAULT_RETRY_POLICY: readonly RetryClass[] = ['ct'];

const ALL: readonly RetryClass[] = ['ct', 'rt', '4xx', '5xx'];

function clampInt(raw: string | null, min: number, max: number, fallback: number): number {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.round(n)));
}

export function parseRetryPolicy(raw: string | null | undefined, fallback: readonly RetryClass[]): Set<RetryClass> {
  if (raw === null || raw === undefined || raw.trim() === '') return new Set(fallback);
  const out = new Set<RetryClass>();
  for (const part of raw.split(',').map((p) => p.trim().toLowerCase())) {
    if (part === 'all') ALL.forEach((c) => out.add(c));
    else if ((ALL as readonly string[]).includes(part)) out.add(part as RetryClass);
    else return new Set(fallback);
  }
  return out;
}

/** Splits a configured webhook URL into the URL Twilio requests (and signs) and its overrides. */
export function parseWebhookUrl(
  configured: string,
  defaultRetryPolicy: readonly RetryClass[] = DEFAULT_RETRY_POLICY,
): { url: string; overrides: ConnectionOverrides } {
  const hash = configured.indexOf('#');
  const url = hash < 0 ? configured : configured.slice(0, hash);
  const fragment = new URLSearchParams(hash < 0 ? '' : configured.slice(hash + 1));
  return {
    url,
    overrides: {
      connectTimeoutMs: clampInt(fragment.get('ct'), 100, 10_000, 5_000),
      readTimeoutMs: clampInt(fragment.get('rt'), 100, 15_000, 15_000),
      totalTimeoutMs: clampInt(fragment.get('tt'), 100, 15_000, 15_000),
      retryCount: clampInt(fragment.get('rc'), 0, 5, 1),
      retryPolicy: parseRetryPolicy(fragment.get('rp'), defaultRetryPolicy),
    },
  };
}
