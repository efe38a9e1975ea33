import { API_VERSION, rfc2822 } from './message';

/**
 * The simulator's call record and its rendering as Twilio's Call resource
 * (snake_case, RFC 2822 dates, duration as a string, relative URIs).
 */
export const CALL_STATUSES = [
  'queued',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
] as const;

export type CallStatus = (typeof CALL_STATUSES)[number];

/** How a ringing phone ends up: picked up, or one of Twilio's unanswered ends. */
export type CallAnswer = 'answered' | 'no-answer' | 'busy' | 'failed';

export type CallDirection = 'inbound' | 'outbound-api' | 'outbound-dial';

export interface SimCall {
  readonly sid: string;
  readonly accountSid: string;
  readonly direction: CallDirection;
  readonly from: string;
  readonly to: string;
  readonly parentCallSid: string | null;
  status: CallStatus;
  readonly dateCreated: number;
  dateUpdated: number;
  startTime: number | null;
  endTime: number | null;
  answeredBy: string | null;
  readonly forwardedFrom: string | null;
  readonly statusCallback: string | null;
  /** Events the status callback is sent for (Twilio: `completed` only unless asked). */
  readonly statusCallbackEvents: ReadonlySet<string>;
  /** Numbers each status callback of this call. */
  sequence: number;
  readonly seq: number;
  readonly history: { status: CallStatus; at: number }[];
  /** Every TwiML verb the call ran, in order (inspection). */
  readonly verbs: string[];
}

export function isTerminalCall(status: CallStatus): boolean {
  return (
    status === 'completed' ||
    status === 'busy' ||
    status === 'failed' ||
    status === 'no-answer' ||
    status === 'canceled'
  );
}

export function callUri(accountSid: string, sid: string): string {
  return `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`;
}

export function callDurationSecs(c: SimCall): number | null {
  if (c.startTime === null || c.endTime === null) return null;
  return Math.max(0, Math.round((c.endTime - c.startTime) / 1000));
}

/** Twilio's JSON for one call, with exactly the fields of the Call resource. */
export function renderCall(c: SimCall): Record<string, unknown> {
  const uri = callUri(c.accountSid, c.sid);
  const base = uri.slice(0, -'.json'.length);
  const duration = callDurationSecs(c);
  return {
    account_sid: c.accountSid,
    answered_by: c.answeredBy,
    api_version: API_VERSION,
    caller_name: null,
    date_created: rfc2822(c.dateCreated),
    date_updated: rfc2822(c.dateUpdated),
    direction: c.direction,
    duration: duration === null ? null : String(duration),
    end_time: c.endTime === null ? null : rfc2822(c.endTime),
    forwarded_from: c.forwardedFrom,
    from: c.from,
    from_formatted: c.from,
    group_sid: null,
    parent_call_sid: c.parentCallSid,
    phone_number_sid: null,
    price: null,
    price_unit: 'USD',
    queue_time: '0',
    sid: c.sid,
    start_time: c.startTime === null ? null : rfc2822(c.startTime),
    status: c.status,
    subresource_uris: {
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      payments: `${base}/Payments.json`,
      events: `${base}/Events.json`,
      siprec: `${base}/Siprec.json`,
      streams: `${base}/Streams.json`,
      transcriptions: `${base}/Transcriptions.json`,
      user_defined_message_subscriptions: `${base}/UserDefinedMessageSubscriptions.json`,
      user_defined_messages: `${base}/UserDefinedMessages.json`,
    },
    to: c.to,
    to_formatted: c.to,
    trunk_sid: null,
    uri,
  };
}

/** A detached copy for inspection. */
export interface SimCallView {
  sid: string;
  accountSid: string;
  direction: CallDirection;
  from: string;
  to: string;
  parentCallSid: string | null;
  status: CallStatus;
  answeredBy: string | null;
  dateCreated: Date;
  startTime: Date | null;
  endTime: Date | null;
  durationSecs: number | null;
  history: { status: CallStatus; at: Date }[];
  verbs: string[];
}

export function callViewOf(c: SimCall): SimCallView {
  return {
    sid: c.sid,
    accountSid: c.accountSid,
    direction: c.direction,
    from: c.from,
    to: c.to,
    parentCallSid: c.parentCallSid,
    status: c.status,
    answeredBy: c.answeredBy,
    dateCreated: new Date(c.dateCreated),
    startTime: c.startTime === null ? null : new Date(c.startTime),
    endTime: c.endTime === null ? null : new Date(c.endTime),
    durationSecs: callDurationSecs(c),
    history: c.history.map((h) => ({ status: h.status, at: new Date(h.at) })),
    verbs: [...c.verbs],
  };
}
