import { IngressEgressError } from '../errors';
import { hashApiToken, parseApiTokens, type ApiTokenEntry } from './api-tokens';
import { crossFieldIssues, envSchema, parseSubaccountTokens, SECRET_ENV_VARS, splitList, type Env } from './schema';

export interface TopicNames {
  inbound: string;
  status: string;
  consent: string;
  egress: string;
  /** KAFKA_TOPIC_EGRESS_URGENT: requests with priority urgent. */
  egressUrgent: string;
  /** KAFKA_TOPIC_EGRESS_BULK: requests with priority bulk. */
  egressBulk: string;
  outcomes: string;
  egressDlq: string;
  voiceCalls: string;
  voiceRecordings: string;
}

export interface AppConfig {
  nodeEnv: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  http: { port: number; host: string; bodyLimitBytes: number };
  api: {
    /** API_TOKENS, parsed; each token only as its SHA-256 digest. */
    tokens: readonly ApiTokenEntry[];
    /** Each token's request rate limit. */
    rateLimit: { perSec: number; burst: number };
    /** METRICS_TOKEN's SHA-256 (hex); undefined: /metrics is open. */
    metricsTokenSha256: string | undefined;
  };
  shutdownTimeoutMs: number;
  twilio: {
    /** TWILIO_ENABLED: the Twilio connector runs (then `account` is always there). */
    enabled: boolean;
    /**
     * The account's credentials (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN), when both are set: always with
     * TWILIO_ENABLED=true (the schema demands them), and for the CLI's look-ups also without.
     */
    account: TwilioAccount | undefined;
    /**
     * TWILIO_ACCOUNT_SID whenever it is set, also with TWILIO_ENABLED=false: the account an API request is for
     * when it names none (an instance may serve the API alone and leave sending to others).
     */
    accountSid: string | undefined;
    /** Account SID → auth token, including the main account: webhooks from subaccounts are signed with their own token. */
    authTokens: Readonly<Record<string, string>>;
    apiKeySid: string | undefined;
    apiKeySecret: string | undefined;
    /** The Conversations session (TWILIO_CONVERSATIONS_ENABLED=true), with everything it needs; undefined when off. */
    conversations: ConversationsConfig | undefined;
    phoneNumber: string | undefined;
    messagingServiceSid: string | undefined;
    statusCallbackUrl: string | undefined;
    webhookBaseUrl: string | undefined;
    /** How every Twilio webhook route (Messaging, Voice, Conversations) authenticates its requests. */
    signing: WebhookSigning;
    apiBaseUrl: string;
    /** One REST attempt, from the request to the end of the answer (TWILIO_TIMEOUT_SECS). */
    timeoutMs: number;
    /** Establishing a new connection (TCP and TLS) for a REST call; nothing was sent when it runs out. */
    connectTimeoutMs: number;
    /** Keep-alive connection pool to the Twilio API: sockets per host (default EGRESS_CONCURRENCY + 10), idle timeout. */
    httpPool: { maxSockets: number; idleTimeoutMs: number };
    /** Longest a Programmable Messaging webhook waits for Kafka's acknowledgement before answering 503. */
    webhookAnswerDeadlineMs: number;
    rateLimit: { perSec: number; burst: number; perNumberRate: number; perNumberBurst: number };
    /** TWILIO_VOICE_CPS: outbound calls per second (its own bucket, apart from messages). */
    voiceCallsPerSec: number;
    circuit: { failureThreshold: number; resetTimeoutMs: number; successThreshold: number };
    maxSegments: number;
  };
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    ssl: boolean;
    sasl: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
    topics: TopicNames;
    /** KAFKA_CREATE_TOPICS: create missing topics at start-up (undefined: a missing topic stops start-up). */
    createTopics?: { partitions: number } | undefined;
  };
  schemaRegistry: { url: string } | undefined;
  sms: {
    /** Country for national-format recipients (ISO 3166 alpha-2, upper case). */
    defaultCountry: string;
    phoneValidation: 'valid' | 'possible';
    blockedCountries: string[];
    /** Empty: every country not blocked. */
    allowedCountries: string[];
    blockPremiumRate: boolean;
    blockEmergency: boolean;
    /** Undefined: the built-in list (DEFAULT_ALLOWED_MEDIA_TYPES in src/sms/validate). */
    allowedMediaTypes: string[] | undefined;
    smartEncoding: boolean;
    /** AUTO_REPLY_FILE: inbound auto-reply rules (undefined: no auto-replies; docs/auto-replies.md). */
    autoReplyFile: string | undefined;
  };
  voice: {
    /** VOICE_ROUTING_FILE: how incoming calls are answered (undefined: voicemail on every number). */
    routingFile: string | undefined;
    /** VOICE_RECORDING_NOTICE: said to the caller before any recording starts. */
    recordingNotice: string | undefined;
    /** VOICE_OUTBOX_DIR: the durable outbox of call events (one directory per instance). */
    outboxDir: string;
  };
  compliance: { extraOptOutKeywords: string[]; extraOptInKeywords: string[]; extraHelpKeywords: string[] };
  egress: {
    /** The compacted send-ledger topic (KAFKA_TOPIC_EGRESS_LEDGER); not in `kafka.topics`, it carries no envelopes. */
    ledgerTopic: string;
    concurrency: number;
    maxAttempts: number;
    sessionTimeoutMs: number;
    /** Most send-ledger entries kept in memory (EGRESS_LEDGER_MAX_ENTRIES). */
    ledgerMaxEntries: number;
    /** EGRESS_BULK_RATE_SHARE: the fraction of the account rate bulk-priority sends may take. */
    bulkRateShare: number;
    /** Each sender's token bucket (TWILIO_PER_SENDER_RATE/_BURST, default the account's). */
    perSender: { rate: number; burst: number };
    /** EGRESS_TEMPLATES_FILE: template definitions loaded at start-up. */
    templatesFile: string | undefined;
  };
}

export class ConfigError extends IngressEgressError {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'IE_CONFIG_INVALID',
      `Invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`,
      {
        details: { variables: problems.map((p) => p.variable) },
      },
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/**
 * Parses the environment once. A bad or missing value throws one ConfigError
 * naming every bad variable; messages never contain a value, so no secret leaks.
 */
export function loadConfig(source: Record<string, string | undefined>): AppConfig {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = source[key];
    if (v !== undefined) picked[key] = v;
  }
  // Each variable on its own, so one error names every bad variable, and the
  // cross-field rules still run on the ones that parsed.
  const problems: { variable: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(envSchema.shape)) {
    const r = field.safeParse(picked[key]);
    if (r.success) values[key] = r.data;
    else problems.push({ variable: key, message: sanitize(r.error.issues[0]?.message ?? 'is invalid') });
  }
  const bad = new Set(problems.map((p) => p.variable));
  for (const issue of crossFieldIssues(values as Env)) if (!bad.has(issue.variable)) problems.push(issue);
  if (problems.length > 0) throw new ConfigError(problems);
  const env = values as Env;
  return deepFreeze(toAppConfig(env));
}

// zod's own messages may quote the received input; keep only our phrasing.
function sanitize(message: string): string {
  return message.includes('received') ? message.replace(/,?\s*received.*$/, '') : message;
}

function apiTokenEntries(raw: string): ApiTokenEntry[] {
  const parsed = parseApiTokens(raw);
  return 'entries' in parsed ? parsed.entries : [];
}

/**
 * Webhook signature checking, decided once: verify X-Twilio-Signature against
 * the public base URL with each account's token, or not at all — by choice
 * (TWILIO_WEBHOOK_VALIDATION=false, refused in production) or because no
 * Twilio webhook is served (TWILIO_ENABLED and TWILIO_CONVERSATIONS_ENABLED
 * both false).
 */
export type WebhookSigning =
  | { verify: true; baseUrl: string; authTokens: Readonly<Record<string, string>> }
  | { verify: false; why: 'disabled' | 'no-webhooks' };

/**
 * A Twilio account's credentials. Whoever holds one needs no further check:
 * the schema demanded both variables.
 */
export interface TwilioAccount {
  sid: string;
  authToken: string;
}

/** The Conversations session's settings; the schema demanded the key and service when it is enabled. */
export interface ConversationsConfig {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  serviceSid: string;
  /** Identity the session joins as; messages it authors are not ingested. */
  identity: string;
  tokenTtlSecs: number;
  /** Twilsock URL override (the simulator's socket); undefined = Twilio's. */
  socketUrl: string | undefined;
  /** Messages backfilled from a conversation joined for the first time. */
  backfillLimit: number;
}

function signingOf(
  env: Env,
  authTokens: Readonly<Record<string, string>>,
  baseUrl: string | undefined,
): WebhookSigning {
  if (!env.TWILIO_WEBHOOK_VALIDATION) return { verify: false, why: 'disabled' };
  // crossFieldIssues demands the base URL whenever a webhook is served with validation on.
  if (baseUrl === undefined) return { verify: false, why: 'no-webhooks' };
  return { verify: true, baseUrl, authTokens };
}

function accountOf(env: Env): TwilioAccount | undefined {
  // crossFieldIssues demands both when Twilio is enabled.
  if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN) return undefined;
  return { sid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN };
}

function conversationsOf(env: Env): ConversationsConfig | undefined {
  const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_API_KEY_SID: apiKeySid, TWILIO_API_KEY_SECRET: apiKeySecret } = env;
  const serviceSid = env.TWILIO_CONVERSATIONS_SERVICE_SID;
  // crossFieldIssues demands all four when Conversations is enabled.
  if (!env.TWILIO_CONVERSATIONS_ENABLED || !accountSid || !apiKeySid || !apiKeySecret || !serviceSid) return undefined;
  return {
    accountSid,
    apiKeySid,
    apiKeySecret,
    serviceSid,
    identity: env.TWILIO_CONVERSATIONS_IDENTITY,
    tokenTtlSecs: env.TWILIO_CONVERSATIONS_TOKEN_TTL_SECS,
    socketUrl: env.TWILIO_CONVERSATIONS_SOCKET_URL,
    backfillLimit: env.TWILIO_CONVERSATIONS_BACKFILL_LIMIT,
  };
}

function toAppConfig(env: Env): AppConfig {
  const authTokens: Record<string, string> = {
    ...(env.TWILIO_SUBACCOUNT_AUTH_TOKENS ? (parseSubaccountTokens(env.TWILIO_SUBACCOUNT_AUTH_TOKENS) ?? {}) : {}),
  };
  if (env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN) authTokens[env.TWILIO_ACCOUNT_SID] = env.TWILIO_AUTH_TOKEN;
  const webhookBaseUrl = env.TWILIO_WEBHOOK_BASE_URL?.replace(/\/+$/, '');
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    http: { port: env.HTTP_PORT, host: env.HTTP_HOST, bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES },
    api: {
      tokens: env.API_TOKENS ? apiTokenEntries(env.API_TOKENS) : [],
      rateLimit: { perSec: env.API_RATE_LIMIT_PER_SEC, burst: env.API_RATE_LIMIT_BURST },
      metricsTokenSha256: env.METRICS_TOKEN ? hashApiToken(env.METRICS_TOKEN) : undefined,
    },
    shutdownTimeoutMs: Math.round(env.SHUTDOWN_TIMEOUT_SECS * 1000),
    twilio: {
      enabled: env.TWILIO_ENABLED,
      account: accountOf(env),
      accountSid: env.TWILIO_ACCOUNT_SID,
      authTokens,
      apiKeySid: env.TWILIO_API_KEY_SID,
      apiKeySecret: env.TWILIO_API_KEY_SECRET,
      conversations: conversationsOf(env),
      phoneNumber: env.TWILIO_PHONE_NUMBER,
      messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID,
      statusCallbackUrl: env.TWILIO_STATUS_CALLBACK_URL,
      webhookBaseUrl,
      signing: signingOf(env, authTokens, webhookBaseUrl),
      apiBaseUrl: env.TWILIO_API_BASE_URL.replace(/\/+$/, ''),
      timeoutMs: Math.round(env.TWILIO_TIMEOUT_SECS * 1000),
      connectTimeoutMs: Math.round(env.TWILIO_CONNECT_TIMEOUT_SECS * 1000),
      httpPool: {
        maxSockets: env.TWILIO_HTTP_MAX_SOCKETS ?? env.EGRESS_CONCURRENCY + 10,
        idleTimeoutMs: Math.round(env.TWILIO_HTTP_IDLE_TIMEOUT_SECS * 1000),
      },
      webhookAnswerDeadlineMs: Math.round(env.TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS * 1000),
      rateLimit: {
        perSec: env.TWILIO_RATE_LIMIT_PER_SEC,
        burst: env.TWILIO_RATE_LIMIT_BURST,
        perNumberRate: env.TWILIO_PER_NUMBER_RATE,
        perNumberBurst: env.TWILIO_PER_NUMBER_BURST,
      },
      voiceCallsPerSec: env.TWILIO_VOICE_CPS,
      circuit: {
        failureThreshold: env.TWILIO_CIRCUIT_FAILURE_THRESHOLD,
        resetTimeoutMs: Math.round(env.TWILIO_CIRCUIT_RESET_TIMEOUT_SECS * 1000),
        successThreshold: env.TWILIO_CIRCUIT_SUCCESS_THRESHOLD,
      },
      maxSegments: env.TWILIO_MAX_SEGMENTS,
    },
    kafka: {
      brokers: env.KAFKA_BROKERS.split(',').map((b) => b.trim()),
      clientId: env.KAFKA_CLIENT_ID,
      groupId: env.KAFKA_GROUP_ID,
      ssl: env.KAFKA_SSL,
      sasl:
        env.KAFKA_SASL_MECHANISM && env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD
          ? {
              mechanism: env.KAFKA_SASL_MECHANISM,
              username: env.KAFKA_SASL_USERNAME,
              password: env.KAFKA_SASL_PASSWORD,
            }
          : undefined,
      topics: {
        inbound: env.KAFKA_TOPIC_INBOUND,
        status: env.KAFKA_TOPIC_STATUS,
        consent: env.KAFKA_TOPIC_CONSENT,
        egress: env.KAFKA_TOPIC_EGRESS,
        egressUrgent: env.KAFKA_TOPIC_EGRESS_URGENT,
        egressBulk: env.KAFKA_TOPIC_EGRESS_BULK,
        outcomes: env.KAFKA_TOPIC_OUTCOMES,
        egressDlq: env.KAFKA_TOPIC_EGRESS_DLQ,
        voiceCalls: env.KAFKA_TOPIC_VOICE_CALLS,
        voiceRecordings: env.KAFKA_TOPIC_VOICE_RECORDINGS,
      },
      createTopics: env.KAFKA_CREATE_TOPICS ? { partitions: env.KAFKA_CREATE_TOPICS_PARTITIONS } : undefined,
    },
    schemaRegistry: env.SCHEMA_REGISTRY_URL ? { url: env.SCHEMA_REGISTRY_URL } : undefined,
    sms: {
      defaultCountry: env.SMS_DEFAULT_COUNTRY,
      phoneValidation: env.SMS_PHONE_VALIDATION,
      blockedCountries: splitList(env.SMS_BLOCKED_COUNTRIES).map((c) => c.toUpperCase()),
      allowedCountries: splitList(env.SMS_ALLOWED_COUNTRIES).map((c) => c.toUpperCase()),
      blockPremiumRate: env.SMS_BLOCK_PREMIUM_RATE,
      blockEmergency: env.SMS_BLOCK_EMERGENCY,
      allowedMediaTypes: env.SMS_ALLOWED_MEDIA_TYPES === undefined ? undefined : splitList(env.SMS_ALLOWED_MEDIA_TYPES),
      smartEncoding: env.SMS_SMART_ENCODING,
      autoReplyFile: env.AUTO_REPLY_FILE,
    },
    voice: {
      routingFile: env.VOICE_ROUTING_FILE,
      recordingNotice: env.VOICE_RECORDING_NOTICE,
      outboxDir: env.VOICE_OUTBOX_DIR,
    },
    compliance: {
      extraOptOutKeywords: splitList(env.COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS),
      extraOptInKeywords: splitList(env.COMPLIANCE_EXTRA_OPT_IN_KEYWORDS),
      extraHelpKeywords: splitList(env.COMPLIANCE_EXTRA_HELP_KEYWORDS),
    },
    egress: {
      ledgerTopic: env.KAFKA_TOPIC_EGRESS_LEDGER,
      concurrency: env.EGRESS_CONCURRENCY,
      maxAttempts: env.EGRESS_MAX_ATTEMPTS,
      sessionTimeoutMs: Math.round(env.EGRESS_SESSION_TIMEOUT_SECS * 1000),
      ledgerMaxEntries: env.EGRESS_LEDGER_MAX_ENTRIES,
      bulkRateShare: env.EGRESS_BULK_RATE_SHARE,
      perSender: {
        rate: env.TWILIO_PER_SENDER_RATE ?? env.TWILIO_RATE_LIMIT_PER_SEC,
        burst: env.TWILIO_PER_SENDER_BURST ?? env.TWILIO_RATE_LIMIT_BURST,
      },
      templatesFile: env.EGRESS_TEMPLATES_FILE,
    },
  };
}

/** The effective configuration with every secret masked, for `config check` and start-up logs. */
export function maskedEnv(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const parsed = envSchema.safeParse(
    Object.fromEntries(Object.keys(envSchema.shape).flatMap((k) => (source[k] === undefined ? [] : [[k, source[k]]]))),
  );
  const values: Record<string, unknown> = parsed.success ? parsed.data : source;
  for (const key of Object.keys(envSchema.shape)) {
    const v = values[key];
    if (v === undefined) continue;
    out[key] = (SECRET_ENV_VARS as readonly string[]).includes(key) ? '********' : String(v);
  }
  return out;
}
