/**
 * The simulator's message record and its rendering as Twilio's Message
 * resource (snake_case, counts as strings, RFC 2822 dates, relative URIs).
 */
/** The statuses of Twilio's Message resource the simulator reports (it never partially delivers). */
export const MESSAGE_STATUSES = [
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'read',
  'canceled',
  'receiving',
  'received',
] as const;

export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type MessageDirection = 'outbound-api' | 'outbound-reply' | 'inbound';

export interface SimMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly direction: MessageDirection;
  from: string | null;
  readonly to: string;
  body: string;
  readonly messagingServiceSid: string | null;
  readonly mediaUrls: readonly string[];
  /** What `num_segments` shows: 0 while a messaging service has not picked a sender yet, as Twilio reports. */
  numSegments: number;
  /** The message's real segment count. */
  readonly segments: number;
  status: MessageStatus;
  readonly dateCreated: number;
  dateUpdated: number;
  dateSent: number | null;
  errorCode: number | null;
  errorMessage: string | null;
  price: string | null;
  readonly priceUnit: string;
  readonly statusCallback: string | null;
  readonly sendAt: number | null;
  readonly validityPeriodSec: number | null;
  /** Creation order across the whole simulator; lists sort on it. */
  readonly seq: number;
  /** Every status the message entered, with the simulated time. */
  readonly history: { status: MessageStatus; at: number }[];
  /** How the message will end, drawn at creation (outbound only). */
  outcome?: { status: 'delivered' | 'undelivered' | 'failed'; errorCode: number | null } | undefined;
  /** Still moving along its lifecycle (see StatusProgression). */
  progressing?: boolean | undefined;
}

export interface PlannedStep {
  status: MessageStatus;
  at: number;
  errorCode: number | null;
}

export const API_VERSION = '2010-04-01';

export function messageUri(accountSid: string, sid: string): string {
  return `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
}

let cachedSecond = NaN;
let cachedText = '';

/** `Thu, 24 Aug 2023 05:01:45 +0000`, the only date format the 2010 API speaks. */
export function rfc2822(ms: number): string {
  // One string per second: a create renders three dates, all usually the same second.
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedText = new Date(second * 1000).toUTCString().replace('GMT', '+0000');
  }
  return cachedText;
}

/** Twilio's JSON for one message, with exactly the fields of the Message resource. */
export function renderMessage(m: SimMessage): Record<string, unknown> {
  const uri = messageUri(m.accountSid, m.sid);
  const base = uri.slice(0, -'.json'.length);
  return {
    account_sid: m.accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: m.dateSent === null ? null : rfc2822(m.dateSent),
    date_updated: rfc2822(m.dateUpdated),
    direction: m.direction,
    error_code: m.errorCode,
    error_message: m.errorMessage,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: String(m.mediaUrls.length),
    num_segments: String(m.numSegments),
    price: m.price,
    price_unit: m.priceUnit,
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `${base}/Media.json`, feedback: `${base}/Feedback.json` },
    to: m.to,
    uri,
  };
}

/** A detached copy for inspection, so tests cannot mutate the simulator's state. */
export interface SimMessageView {
  sid: string;
  accountSid: string;
  direction: MessageDirection;
  from: string | null;
  to: string;
  body: string;
  messagingServiceSid: string | null;
  mediaUrls: string[];
  numSegments: number;
  status: MessageStatus;
  errorCode: number | null;
  dateCreated: Date;
  dateSent: Date | null;
  sendAt: Date | null;
  statusCallback: string | null;
  history: { status: MessageStatus; at: Date }[];
}

export function viewOf(m: SimMessage): SimMessageView {
  return {
    sid: m.sid,
    accountSid: m.accountSid,
    direction: m.direction,
    from: m.from,
    to: m.to,
    body: m.body,
    messagingServiceSid: m.messagingServiceSid,
    mediaUrls: [...m.mediaUrls],
    numSegments: m.segments,
    status: m.status,
    errorCode: m.errorCode,
    dateCreated: new Date(m.dateCreated),
    dateSent: m.dateSent === null ? null : new Date(m.dateSent),
    sendAt: m.sendAt === null ? null : new Date(m.sendAt),
    statusCallback: m.statusCallback,
    history: m.history.map((h) => ({ status: h.status, at: new Date(h.at) })),
  };
}
