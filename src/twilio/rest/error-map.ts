import { systemClock, type Clock } from '../../common/clock';
/**
 * What a failed Twilio call means for the egress pipeline, as a data table
 * (kafkajs style): one row per Twilio error code, HTTP status fallback and
 * network error. Retry logic reads only the classification's flags; every
 * row is documented in docs/errors.md (a unit test checks it).
 */
import { redactPhonesInText } from '../../observability/redact';

export type TwilioErrorType =
  /** Retry later: Twilio or the carrier is throttling; wait (Retry-After when given), then retry. */
  | 'rate_limited'
  /** Limited retry: may succeed on a later attempt, but only a few attempts are worth it. */
  | 'transient'
  /** The request or the recipient is wrong: retrying cannot help. */
  | 'permanent'
  /** The recipient opted out (21610): record the opt-out, never retry. */
  | 'opted_out'
  /** Filtered by the carrier (30007): do not blind-retry the same content. */
  | 'carrier_filtered'
  /** Credentials or permissions are wrong: a configuration problem. */
  | 'auth'
  /** The account or resource does not exist: a configuration problem. */
  | 'not_found'
  /** Twilio answered 5xx. */
  | 'server_error'
  /** No answer in time; the request may have been executed. */
  | 'timeout'
  /** The connection failed; whether the request was executed depends on when. */
  | 'network'
  /** Not recognisably a Twilio or network error (e.g. a bug): never retried. */
  | 'unknown';

export interface TwilioErrorRow {
  /** A Twilio error code, `HTTP <status>` / `HTTP 4xx` / `HTTP 5xx`, or a Node/axios network error code. */
  code: number | string;
  type: TwilioErrorType;
  retriable: boolean;
  /** The request may have been executed (a message may exist): reconcile before any resend. */
  ambiguous?: boolean;
  /** The error itself is a consent signal. */
  consent?: 'opt_out';
  /** Twilio (or the path to it) looks down: counts against the circuit breaker. */
  outage?: boolean;
  /** Our configuration is wrong (credentials, sender, account): alert an operator. */
  configuration?: boolean;
  /** Human explanation, safe to log and to publish (no number, no body). */
  message: string;
}

const row = (r: TwilioErrorRow): TwilioErrorRow => r;

/** Rows keyed by Twilio error code (REST errors and delivery errors from status callbacks). */
export const TWILIO_ERROR_ROWS: readonly TwilioErrorRow[] = [
  row({
    code: 20003,
    type: 'auth',
    retriable: false,
    configuration: true,
    message: 'Authentication failed or permission denied: check the account SID and credentials',
  }),
  row({ code: 20404, type: 'not_found', retriable: false, configuration: true, message: 'The resource was not found' }),
  row({
    code: 20429,
    type: 'rate_limited',
    retriable: true,
    message: 'Too many concurrent requests to the Twilio API: retry later',
  }),
  row({
    code: 20500,
    type: 'server_error',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'Twilio internal error: the message may or may not have been created',
  }),
  row({
    code: 20503,
    type: 'server_error',
    retriable: true,
    outage: true,
    message: 'Twilio is temporarily unavailable',
  }),
  row({ code: 21211, type: 'permanent', retriable: false, message: "Invalid 'To' phone number" }),
  row({
    code: 21212,
    type: 'permanent',
    retriable: false,
    configuration: true,
    message: "Invalid 'From' phone number",
  }),
  row({
    code: 21408,
    type: 'permanent',
    retriable: false,
    configuration: true,
    message: 'Sending to this region is not enabled (Messaging Geographic Permissions)',
  }),
  row({ code: 21602, type: 'permanent', retriable: false, message: 'A message body or media URL is required' }),
  row({
    code: 21606,
    type: 'permanent',
    retriable: false,
    configuration: true,
    message: "The 'From' number is not an SMS-capable Twilio number of this account",
  }),
  row({
    code: 21610,
    type: 'opted_out',
    retriable: false,
    consent: 'opt_out',
    message: 'The recipient has opted out of messages from this sender (replied STOP)',
  }),
  row({
    code: 21611,
    type: 'rate_limited',
    retriable: true,
    message: "The sender's queue holds more than 10 hours of messages: retry later",
  }),
  row({
    code: 21612,
    type: 'permanent',
    retriable: false,
    message: 'Twilio cannot route a message from this sender to this recipient',
  }),
  row({
    code: 21614,
    type: 'permanent',
    retriable: false,
    message: "The 'To' number cannot receive SMS (not a mobile)",
  }),
  row({ code: 21617, type: 'permanent', retriable: false, message: 'The body exceeds the 1600-character limit' }),
  row({
    code: 30001,
    type: 'rate_limited',
    retriable: true,
    message: 'Queue overflow: too many messages queued for this sender: retry later',
  }),
  row({
    code: 30002,
    type: 'permanent',
    retriable: false,
    configuration: true,
    message: 'The account is suspended',
  }),
  row({
    code: 30003,
    type: 'transient',
    retriable: true,
    message: 'The handset is unreachable (off or out of coverage)',
  }),
  row({
    code: 30004,
    type: 'permanent',
    retriable: false,
    message: 'The message was blocked by the recipient or carrier',
  }),
  row({
    code: 30005,
    type: 'permanent',
    retriable: false,
    message: 'Unknown destination handset (the number does not exist)',
  }),
  row({
    code: 30006,
    type: 'permanent',
    retriable: false,
    message: 'Landline or unreachable carrier: the number cannot receive SMS',
  }),
  row({
    code: 30007,
    type: 'carrier_filtered',
    retriable: false,
    message: 'Filtered by the carrier (spam or unregistered traffic): do not resend the same content',
  }),
  row({ code: 30008, type: 'transient', retriable: true, message: 'Unknown error from the carrier' }),
  row({
    code: 30022,
    type: 'rate_limited',
    retriable: true,
    message: 'US A2P 10DLC throughput or daily limit exceeded: retry later',
  }),
  row({
    code: 30032,
    type: 'permanent',
    retriable: false,
    configuration: true,
    message: 'The toll-free number is not verified',
  }),
  row({
    code: 30034,
    type: 'permanent',
    retriable: false,
    configuration: true,
    message: 'US A2P 10DLC: the sender is not registered to an approved campaign',
  }),
  row({
    code: 30036,
    type: 'permanent',
    retriable: false,
    message: 'The validity period expired before the message could be sent',
  }),
  row({
    code: 63017,
    type: 'rate_limited',
    retriable: true,
    message: 'The account exceeded its messages-per-second limit: retry later',
  }),
];

/** Rows for an HTTP status when the body carried no known Twilio code. */
export const HTTP_STATUS_ROWS: readonly TwilioErrorRow[] = [
  row({ code: 'HTTP 400', type: 'permanent', retriable: false, message: 'Twilio rejected the request as invalid' }),
  row({
    code: 'HTTP 401',
    type: 'auth',
    retriable: false,
    configuration: true,
    message: 'Twilio refused the credentials',
  }),
  row({
    code: 'HTTP 403',
    type: 'auth',
    retriable: false,
    configuration: true,
    message: 'The credentials lack permission for this request',
  }),
  row({
    code: 'HTTP 404',
    type: 'not_found',
    retriable: false,
    configuration: true,
    message: 'The account or resource was not found (check the account SID and API base URL)',
  }),
  row({ code: 'HTTP 429', type: 'rate_limited', retriable: true, message: 'Too many requests: retry later' }),
  row({
    code: 'HTTP 500',
    type: 'server_error',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'Twilio internal error: the message may or may not have been created',
  }),
  row({
    code: 'HTTP 502',
    type: 'server_error',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'Bad gateway in front of Twilio: the request may have been executed',
  }),
  row({
    code: 'HTTP 503',
    type: 'server_error',
    retriable: true,
    outage: true,
    message: 'Twilio is temporarily unavailable',
  }),
  row({
    code: 'HTTP 504',
    type: 'server_error',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'Gateway timeout in front of Twilio: the request may have been executed',
  }),
  row({
    code: 'HTTP 5xx',
    type: 'server_error',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'Twilio answered with a server error: the request may have been executed',
  }),
  row({ code: 'HTTP 4xx', type: 'permanent', retriable: false, message: 'Twilio rejected the request' }),
];

/** Rows for errors without an HTTP answer (axios / Node error codes). */
export const NETWORK_ERROR_ROWS: readonly TwilioErrorRow[] = [
  row({
    code: 'ECONNABORTED',
    type: 'timeout',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'The request timed out: it may have been executed',
  }),
  row({
    code: 'ETIMEDOUT',
    type: 'timeout',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'The connection timed out: the request may have been executed',
  }),
  row({
    code: 'ESOCKETTIMEDOUT',
    type: 'timeout',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'The socket timed out: the request may have been executed',
  }),
  row({
    code: 'ECONNRESET',
    type: 'network',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'The connection was reset: the request may have been executed',
  }),
  row({
    code: 'EPIPE',
    type: 'network',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'The connection closed while sending: the request may have been executed',
  }),
  row({
    code: 'ERR_NETWORK',
    type: 'network',
    retriable: true,
    ambiguous: true,
    outage: true,
    message: 'A network error without details: the request may have been executed',
  }),
  row({
    code: 'ERR_CONNECT_TIMEOUT',
    type: 'timeout',
    retriable: true,
    outage: true,
    message: 'No connection could be established in time (TWILIO_CONNECT_TIMEOUT_SECS): nothing was sent',
  }),
  row({
    code: 'ECONNREFUSED',
    type: 'network',
    retriable: true,
    outage: true,
    message: 'The connection was refused before anything was sent',
  }),
  row({
    code: 'ENOTFOUND',
    type: 'network',
    retriable: true,
    outage: true,
    message: 'DNS lookup failed before anything was sent',
  }),
  row({
    code: 'EAI_AGAIN',
    type: 'network',
    retriable: true,
    outage: true,
    message: 'DNS lookup timed out before anything was sent',
  }),
  row({
    code: 'EHOSTUNREACH',
    type: 'network',
    retriable: true,
    outage: true,
    message: 'The host is unreachable; nothing was sent',
  }),
  row({
    code: 'ENETUNREACH',
    type: 'network',
    retriable: true,
    outage: true,
    message: 'The network is unreachable; nothing was sent',
  }),
];

/** The fallback for anything else: never retried, because retrying a bug repeats it. */
export const UNKNOWN_ERROR_ROW: TwilioErrorRow = row({
  code: 'UNKNOWN',
  type: 'unknown',
  retriable: false,
  message: 'An error that is neither a Twilio answer nor a known network failure',
});

/** Every row, in documentation order. */
export const ERROR_MAP: readonly TwilioErrorRow[] = [
  ...TWILIO_ERROR_ROWS,
  ...HTTP_STATUS_ROWS,
  ...NETWORK_ERROR_ROWS,
  UNKNOWN_ERROR_ROW,
];

const BY_CODE = new Map<number | string, TwilioErrorRow>(ERROR_MAP.map((r) => [r.code, r]));

export function errorRow(code: number | string): TwilioErrorRow | undefined {
  return BY_CODE.get(code);
}

export interface TwilioErrorClassification {
  /** The row that matched (its `code`: a Twilio code, `HTTP …`, a network code or `UNKNOWN`). */
  row: number | string;
  type: TwilioErrorType;
  retriable: boolean;
  ambiguous: boolean;
  consent: 'opt_out' | undefined;
  outage: boolean;
  configuration: boolean;
  /** The row's message: safe to log and publish. */
  message: string;
  /** Twilio's own message with phone numbers masked (it may quote the To number). */
  detail: string | undefined;
  twilioErrorCode: number | undefined;
  status: number | undefined;
  networkCode: string | undefined;
  moreInfo: string | undefined;
  /** From a Retry-After header (seconds or HTTP date), when the caller kept it. */
  retryAfterMs: number | undefined;
}

/** Where the egress REST client leaves Retry-After on a RestException (`err.details`), in seconds. */
export const RETRY_AFTER_DETAIL = 'retry_after_seconds';

export interface ClassifyOptions {
  /** For Retry-After given as an HTTP date. */
  clock?: Pick<Clock, 'now'>;
}

/**
 * Classifies what a Twilio call threw: the SDK's RestException (`status`,
 * `code`, `message`, `moreInfo`, `details`), an axios-style error (`code`
 * string, `response.status`, `response.headers`), or a Node socket error
 * (also as `cause`). A known Twilio code wins over the HTTP status, which
 * wins over the network code.
 */
export function classifyTwilioError(err: unknown, options: ClassifyOptions = {}): TwilioErrorClassification {
  const e = asRecord(err);
  const response = asRecord(e.response);
  const cause = asRecord(e.cause);
  const data = asRecord(response.data);

  const status = num(e.status) ?? num(response.status) ?? num(e.statusCode);
  const twilioErrorCode = num(e.code) ?? num(data.code);
  const networkCode = str(e.code) ?? str(cause.code);
  const moreInfo = str(e.moreInfo) ?? str(data.more_info);
  const rawMessage = str(e.message) ?? str(data.message);

  let matched: TwilioErrorRow | undefined;
  if (twilioErrorCode !== undefined) matched = BY_CODE.get(twilioErrorCode);
  if (!matched && status !== undefined && status >= 400) {
    matched =
      BY_CODE.get(`HTTP ${status}`) ?? BY_CODE.get(status >= 500 ? 'HTTP 5xx' : 'HTTP 4xx') ?? UNKNOWN_ERROR_ROW;
  }
  if (!matched && networkCode !== undefined) matched = BY_CODE.get(networkCode.toUpperCase());
  const r = matched ?? UNKNOWN_ERROR_ROW;

  return {
    row: r.code,
    type: r.type,
    retriable: r.retriable,
    ambiguous: r.ambiguous ?? false,
    consent: r.consent,
    outage: r.outage ?? false,
    configuration: r.configuration ?? false,
    message: r.message,
    detail: rawMessage === undefined ? undefined : redactPhonesInText(rawMessage).slice(0, 500),
    twilioErrorCode,
    status,
    networkCode: status === undefined ? networkCode : undefined,
    moreInfo,
    retryAfterMs: retryAfterMs(e, response, options.clock ?? systemClock),
  };
}

function retryAfterMs(e: Record<string, unknown>, response: Record<string, unknown>, clock: Pick<Clock, 'now'>) {
  const fromDetails = num(asRecord(e.details)[RETRY_AFTER_DETAIL]);
  if (fromDetails !== undefined && fromDetails >= 0) return Math.round(fromDetails * 1000);
  const headers = { ...asRecord(e.headers), ...asRecord(response.headers) };
  const raw = headers['retry-after'] ?? headers['Retry-After'] ?? e.retryAfter;
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (typeof value === 'number') return value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - clock.now());
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
