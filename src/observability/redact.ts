/**
 * PII and secret redaction for logs. Phone numbers keep their country calling
 * code and last digits (enough to correlate, not to identify); bodies are
 * replaced by their length; secrets disappear.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

const E164_IN_TEXT = /\+[1-9]\d{6,14}\b/g;

/** `+14155550123` → `+1******23`; anything unparsable keeps only its last 2 digits. */
export function redactPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 4) return '***';
  const parsed = value.startsWith('+') ? parsePhoneNumberFromString(value) : undefined;
  const cc = parsed?.countryCallingCode ?? '';
  const tail = digits.slice(-2);
  const hidden = Math.max(digits.length - cc.length - tail.length, 1);
  return `${cc ? `+${cc}` : ''}${'*'.repeat(hidden)}${tail}`;
}

export function redactBody(value: unknown): string {
  return typeof value === 'string' ? `[body: ${value.length} chars]` : '[body]';
}

export function redactPhonesInText(text: string): string {
  return text.replace(E164_IN_TEXT, (m) => redactPhone(m));
}

export const SECRET_KEYS = [
  'authToken',
  'auth_token',
  'apiKeySecret',
  'api_key_secret',
  'password',
  'secret',
  'token',
  'authorization',
  'Authorization',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_API_KEY_SECRET',
  'TWILIO_SUBACCOUNT_AUTH_TOKENS',
  'KAFKA_SASL_PASSWORD',
  'API_TOKENS',
  'METRICS_TOKEN',
  'x-twilio-signature',
] as const;

export const PHONE_KEYS = [
  'to',
  'from',
  'To',
  'From',
  'phone',
  'phoneNumber',
  'author',
  'Author',
  'recipient',
  'subject',
] as const;
export const BODY_KEYS = ['body', 'Body', 'text'] as const;

/** pino redact paths: top level, one level down and inside req headers. */
export function redactPaths(): string[] {
  const keys = [...SECRET_KEYS, ...PHONE_KEYS, ...BODY_KEYS];
  const paths = new Set<string>();
  for (const k of keys) {
    const p = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
    paths.add(p);
    paths.add(`*.${p}`.replace('.[', '['));
    paths.add(`*.*.${p}`.replace('.[', '['));
  }
  for (const h of ['authorization', 'x-twilio-signature', 'cookie']) paths.add(`req.headers["${h}"]`);
  return [...paths];
}

export function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if ((BODY_KEYS as readonly string[]).includes(key)) return redactBody(value);
  if ((PHONE_KEYS as readonly string[]).includes(key)) {
    if (typeof value === 'string') return redactPhone(value);
    if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? redactPhone(v) : '[redacted]'));
    return '[redacted]';
  }
  return '[redacted]';
}
