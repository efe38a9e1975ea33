import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import { keywordConflicts } from '../sms/keywords';
import { parseApiTokens } from './api-tokens';

/**
 * The whole environment, one zod schema. Names are part of the public contract
 * (architecture.yaml, docs/configuration.md); defaults follow the seed specification.
 */

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

// Number('') is 0: an empty or blank value is refused, not read as 0 (HTTP_PORT='' bound a random port).
const blankIsNaN = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? Number.NaN : v);

const int = (def: number, min: number, max: number) =>
  z
    .preprocess(
      blankIsNaN,
      z.coerce
        .number({ message: 'must be a number' })
        .int({ message: 'must be a whole number' })
        .min(min, { message: `must be >= ${min}` })
        .max(max, { message: `must be <= ${max}` }),
    )
    .default(def);

const num = (def: number, min: number, max: number) =>
  z
    .preprocess(
      blankIsNaN,
      z.coerce
        .number({ message: 'must be a number' })
        .min(min, { message: `must be >= ${min}` })
        .max(max, { message: `must be <= ${max}` }),
    )
    .default(def);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
/** OTLP/HTTP's two encodings; OTLP over gRPC is not built in. */
const otlpProtocol = optionalString.refine((v) => v === undefined || /^http\/(protobuf|json)$/i.test(v), {
  message: 'must be http/protobuf or http/json (OTLP over gRPC is not supported)',
});

const sid = (prefix: string) =>
  optionalString.refine((v) => v === undefined || new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(v), {
    message: `must be a ${prefix} SID (${prefix} followed by 32 hex characters)`,
  });

/** localhost, 127.0.0.0/8 or ::1: the only hosts a plain http:// or ws:// Twilio URL may name (the simulator). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(h);
}

/**
 * A Twilio URL: `secure` (https:, wss:) anywhere, `plain` (http:, ws:) only on loopback, so credentials and
 * signed webhooks never cross a network in clear.
 */
const twilioUrl = (secure: string, plain: string) => (v: string, ctx: z.RefinementCtx) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a ${secure}// URL` });
    return;
  }
  if (u.protocol === secure) return;
  if (u.protocol === plain && isLoopbackHost(u.hostname)) return;
  ctx.addIssue({
    code: 'custom',
    message: `must use ${secure.replace(':', '')}:// (plain ${plain}// only for a loopback host such as the simulator)`,
  });
};

const url = optionalString.superRefine((v, ctx) => {
  if (v !== undefined) twilioUrl('https:', 'http:')(v, ctx);
});

const topic = (def: string) =>
  z
    .string()
    .default(def)
    .refine((v) => /^[a-zA-Z0-9._-]{1,249}$/.test(v), { message: 'must be a valid Kafka topic name' });

// Comma-separated lists: absent or blank means "none"; each item is checked.
const csv = (what: string, item: RegExp) =>
  optionalString.refine((v) => v === undefined || splitList(v).every((x) => item.test(x)), {
    message: `must be a comma-separated list of ${what}`,
  });

/** `a, b,,c` → `['a', 'b', 'c']`. */
export function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

const countries = csv('ISO 3166 alpha-2 country codes (e.g. US,CA)', /^[A-Za-z]{2}$/);
const keywords = csv('single-word keywords', /^\S{1,40}$/u);

/** Variables whose values are secrets: never logged, echoed or exported as metrics. */
export const SECRET_ENV_VARS = [
  'TWILIO_AUTH_TOKEN',
  'TWILIO_API_KEY_SECRET',
  'TWILIO_SUBACCOUNT_AUTH_TOKENS',
  'KAFKA_SASL_PASSWORD',
  'API_TOKENS',
  'METRICS_TOKEN',
] as const;

export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { message: 'must be development, production or test' })
    .default('development'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be a pino level' })
    .default('info'),
  HTTP_PORT: int(4000, 0, 65535),
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_BODY_LIMIT_BYTES: int(65536, 1024, 10 * 1024 * 1024),
  API_TOKENS: optionalString,
  API_RATE_LIMIT_PER_SEC: num(50, 0.01, 1000000),
  API_RATE_LIMIT_BURST: int(100, 1, 10000000),
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  SHUTDOWN_TIMEOUT_SECS: num(25, 1, 600),

  TWILIO_ENABLED: bool(true),
  TWILIO_ACCOUNT_SID: sid('AC'),
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_SUBACCOUNT_AUTH_TOKENS: optionalString,
  TWILIO_API_KEY_SID: sid('SK'),
  TWILIO_API_KEY_SECRET: optionalString,
  TWILIO_CONVERSATIONS_SERVICE_SID: sid('IS'),
  TWILIO_CONVERSATIONS_ENABLED: bool(false),
  TWILIO_CONVERSATIONS_IDENTITY: z
    .string()
    .default('ingress-egress')
    .refine((v) => /^\S{1,256}$/.test(v), { message: 'must be 1-256 characters without spaces' }),
  TWILIO_CONVERSATIONS_TOKEN_TTL_SECS: int(3600, 180, 86400),
  TWILIO_CONVERSATIONS_SOCKET_URL: optionalString.superRefine((v, ctx) => {
    if (v !== undefined) twilioUrl('wss:', 'ws:')(v, ctx);
  }),
  TWILIO_CONVERSATIONS_BACKFILL_LIMIT: int(1000, 0, 100000),
  TWILIO_PHONE_NUMBER: optionalString.refine((v) => v === undefined || /^\+[1-9]\d{6,14}$/.test(v), {
    message: 'must be an E.164 number such as +15551234567',
  }),
  TWILIO_MESSAGING_SERVICE_SID: sid('MG'),
  TWILIO_STATUS_CALLBACK_URL: url,
  TWILIO_WEBHOOK_BASE_URL: url,
  TWILIO_WEBHOOK_VALIDATION: bool(true),
  TWILIO_API_BASE_URL: z.string().default('https://api.twilio.com').superRefine(twilioUrl('https:', 'http:')),
  TWILIO_TIMEOUT_SECS: num(30, 0.1, 600),
  TWILIO_CONNECT_TIMEOUT_SECS: num(5, 0.1, 600),
  TWILIO_HTTP_MAX_SOCKETS: z
    .preprocess(
      blankIsNaN,
      z.coerce
        .number({ message: 'must be a number' })
        .int({ message: 'must be a whole number' })
        .min(1, { message: 'must be >= 1' })
        .max(100000, { message: 'must be <= 100000' }),
    )
    .optional(),
  TWILIO_HTTP_IDLE_TIMEOUT_SECS: num(30, 1, 3600),
  TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS: num(14, 0.1, 14.9),
  TWILIO_RATE_LIMIT_PER_SEC: num(10, 0.01, 100000),
  TWILIO_RATE_LIMIT_BURST: int(30, 1, 1000000),
  TWILIO_VOICE_CPS: num(1, 0.01, 10000),
  TWILIO_PER_NUMBER_RATE: num(1, 0.001, 100000),
  TWILIO_PER_NUMBER_BURST: int(3, 1, 1000000),
  TWILIO_PER_SENDER_RATE: z.coerce
    .number({ message: 'must be a number' })
    .min(0.001, { message: 'must be >= 0.001' })
    .max(100000, { message: 'must be <= 100000' })
    .optional(),
  TWILIO_PER_SENDER_BURST: z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be >= 1' })
    .max(1000000, { message: 'must be <= 1000000' })
    .optional(),
  TWILIO_CIRCUIT_FAILURE_THRESHOLD: int(5, 1, 10000),
  TWILIO_CIRCUIT_RESET_TIMEOUT_SECS: num(30, 0.1, 3600),
  TWILIO_CIRCUIT_SUCCESS_THRESHOLD: int(1, 1, 1000),
  TWILIO_MAX_SEGMENTS: int(10, 1, 100),

  KAFKA_BROKERS: z
    .string({ message: 'is required (comma-separated host:port list)' })
    .min(1, { message: 'is required (comma-separated host:port list)' })
    .refine((v) => v.split(',').every((b) => /^[^\s:]+:\d{1,5}$/.test(b.trim())), {
      message: 'must be a comma-separated list of host:port',
    }),
  KAFKA_CLIENT_ID: z.string().min(1).default('ingress-egress'),
  KAFKA_GROUP_ID: z.string().min(1).default('ingress-egress'),
  KAFKA_SSL: bool(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: optionalString,
  KAFKA_SASL_PASSWORD: optionalString,
  KAFKA_CREATE_TOPICS: bool(false),
  KAFKA_CREATE_TOPICS_PARTITIONS: int(6, 1, 10000),
  KAFKA_TOPIC_INBOUND: topic('sms.inbound'),
  KAFKA_TOPIC_STATUS: topic('sms.status'),
  KAFKA_TOPIC_CONSENT: topic('sms.consent'),
  KAFKA_TOPIC_EGRESS: topic('sms.egress'),
  KAFKA_TOPIC_EGRESS_URGENT: topic('sms.egress.urgent'),
  KAFKA_TOPIC_EGRESS_BULK: topic('sms.egress.bulk'),
  KAFKA_TOPIC_OUTCOMES: topic('sms.outcomes'),
  KAFKA_TOPIC_EGRESS_DLQ: topic('sms.egress.dlq'),
  KAFKA_TOPIC_EGRESS_LEDGER: topic('sms.egress.ledger'),
  KAFKA_TOPIC_VOICE_CALLS: topic('voice.calls'),
  KAFKA_TOPIC_VOICE_RECORDINGS: topic('voice.recordings'),
  EGRESS_CONCURRENCY: int(100, 1, 10000),
  EGRESS_MAX_ATTEMPTS: int(5, 1, 100),
  EGRESS_SESSION_TIMEOUT_SECS: num(30, 1, 3600),
  EGRESS_LEDGER_MAX_ENTRIES: int(250_000, 1000, 100_000_000),
  EGRESS_BULK_RATE_SHARE: num(0.5, 0.01, 1),
  EGRESS_TEMPLATES_FILE: optionalString,
  SMS_DEFAULT_COUNTRY: z
    .string()
    .default('US')
    .transform((v) => v.trim().toUpperCase())
    .refine((v) => isSupportedCountry(v), { message: 'must be an ISO 3166 alpha-2 country code libphonenumber knows' }),
  SMS_PHONE_VALIDATION: z.enum(['valid', 'possible'], { message: 'must be valid or possible' }).default('valid'),
  SMS_BLOCKED_COUNTRIES: countries,
  SMS_ALLOWED_COUNTRIES: countries,
  SMS_BLOCK_PREMIUM_RATE: bool(true),
  SMS_BLOCK_EMERGENCY: bool(true),
  SMS_ALLOWED_MEDIA_TYPES: csv('MIME types or type/* patterns', /^(\*|[a-z0-9.+-]+)\/(\*|[a-z0-9.+-]+)$/i),
  SMS_SMART_ENCODING: bool(false),
  COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS: keywords,
  COMPLIANCE_EXTRA_OPT_IN_KEYWORDS: keywords,
  COMPLIANCE_EXTRA_HELP_KEYWORDS: keywords,
  SCHEMA_REGISTRY_URL: url,
  VOICE_ROUTING_FILE: optionalString,
  AUTO_REPLY_FILE: optionalString,
  VOICE_RECORDING_NOTICE: optionalString,
  VOICE_OUTBOX_DIR: z.string().min(1).default('data/voice-outbox'),
  // OpenTelemetry's standard variables that turn tracing on (read by src/telemetry; checked here so a typo is
  // one clear start-up error). The SDK reads its other OTEL_* variables itself.
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.refine((v) => v === undefined || /^https?:\/\/\S+$/.test(v), {
    message: 'must be an http:// or https:// URL (the collector’s OTLP/HTTP endpoint)',
  }),
  OTEL_TRACES_EXPORTER: optionalString.refine((v) => v === undefined || /^(otlp|console|none)$/i.test(v), {
    message: 'must be otlp, console or none',
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_SERVICE_NAME: optionalString,
});

export type Env = z.output<typeof envSchema>;

/** Every environment variable the service reads (used by the architecture check and `config check`). */
export const ENV_VARS = Object.keys(envSchema.shape) as (keyof Env)[];

/** Cross-field rules: what must be present together. Issues name the variable. */
export function crossFieldIssues(env: Env): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = [];
  const need = (variable: keyof Env, why: string) => {
    if (env[variable] === undefined && !issues.some((i) => i.variable === variable))
      issues.push({ variable, message: `is required ${why}` });
  };
  if (env.TWILIO_ENABLED) {
    need('TWILIO_ACCOUNT_SID', 'when TWILIO_ENABLED=true');
    need('TWILIO_AUTH_TOKEN', 'when TWILIO_ENABLED=true');
  }
  if ((env.TWILIO_ENABLED || env.TWILIO_CONVERSATIONS_ENABLED) && env.TWILIO_WEBHOOK_VALIDATION)
    need('TWILIO_WEBHOOK_BASE_URL', 'to validate webhook signatures (the public URL Twilio signs)');
  if (env.TWILIO_CONVERSATIONS_ENABLED) {
    need('TWILIO_ACCOUNT_SID', 'when TWILIO_CONVERSATIONS_ENABLED=true');
    need('TWILIO_API_KEY_SID', 'when TWILIO_CONVERSATIONS_ENABLED=true');
    need('TWILIO_API_KEY_SECRET', 'when TWILIO_CONVERSATIONS_ENABLED=true');
    need('TWILIO_CONVERSATIONS_SERVICE_SID', 'when TWILIO_CONVERSATIONS_ENABLED=true');
  }
  if (env.NODE_ENV === 'production' && !env.TWILIO_WEBHOOK_VALIDATION) {
    issues.push({ variable: 'TWILIO_WEBHOOK_VALIDATION', message: 'cannot be false when NODE_ENV=production' });
  }
  if (env.API_TOKENS !== undefined) {
    const parsed = parseApiTokens(env.API_TOKENS);
    if ('error' in parsed) issues.push({ variable: 'API_TOKENS', message: parsed.error });
  }
  if (env.KAFKA_SASL_MECHANISM !== undefined) {
    need('KAFKA_SASL_USERNAME', 'when KAFKA_SASL_MECHANISM is set');
    need('KAFKA_SASL_PASSWORD', 'when KAFKA_SASL_MECHANISM is set');
  }
  if (env.TWILIO_SUBACCOUNT_AUTH_TOKENS !== undefined) {
    const parsed = parseSubaccountTokens(env.TWILIO_SUBACCOUNT_AUTH_TOKENS);
    if (parsed === undefined) {
      issues.push({
        variable: 'TWILIO_SUBACCOUNT_AUTH_TOKENS',
        message: 'must be a comma-separated list of ACxxxxxxxx:token pairs',
      });
    }
  }
  for (const c of keywordConflicts({
    extraOptOut: splitList(env.COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS),
    extraOptIn: splitList(env.COMPLIANCE_EXTRA_OPT_IN_KEYWORDS),
    extraHelp: splitList(env.COMPLIANCE_EXTRA_HELP_KEYWORDS),
  })) {
    const variable = {
      extraOptOut: 'COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS',
      extraOptIn: 'COMPLIANCE_EXTRA_OPT_IN_KEYWORDS',
      extraHelp: 'COMPLIANCE_EXTRA_HELP_KEYWORDS',
    }[c.option];
    issues.push({ variable, message: c.message });
  }
  return issues;
}

/** `AC…:token,AC…:token` → map, or undefined when malformed. */
export function parseSubaccountTokens(raw: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const i = pair.indexOf(':');
    if (i < 0) return undefined;
    const sidPart = pair.slice(0, i).trim();
    const token = pair.slice(i + 1).trim();
    if (!/^AC[0-9a-fA-F]{32}$/.test(sidPart) || token === '') return undefined;
    out[sidPart] = token;
  }
  return out;
}
