import { z } from 'zod';
import {
  CallAcceptedData,
  CallEndRequestedData,
  CallFailedData,
  CallReceivedData,
  CallRejectedData,
  CallRequestedData,
  CallStatusData,
  DialCompletedData,
  RecordingData,
  TranscriptionData,
} from './voice-schema';

/**
 * InternalEventV2: every record on every topic is one of these (docs/architecture.md).
 * `data` is a discriminated union on `type`. The schema is strict about the
 * shape and formats; business rules (segments, opt-out, …) live in the egress
 * pipeline so that a bad request becomes a rejected outcome, not a lost record.
 */

export const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, { message: 'must be an E.164 number such as +15551234567' });
export const AccountSid = z.string().regex(/^AC[0-9a-fA-F]{32}$/, { message: 'must be an AC SID' });
export const MessagingServiceSid = z.string().regex(/^MG[0-9a-fA-F]{32}$/, { message: 'must be an MG SID' });
/** SM/MM for Programmable Messaging, IM for Conversations messages. */
export const MessageSid = z.string().regex(/^(SM|MM|IM)[0-9a-fA-F]{32}$/, { message: 'must be an SM, MM or IM SID' });
export const ConversationSid = z.string().regex(/^CH[0-9a-fA-F]{32}$/, { message: 'must be a CH SID' });
const IsoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' });
const Url = z.string().url({ message: 'must be a URL' });

export const Media = z.object({ url: Url, contentType: z.string().min(1).optional() });

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
  'partially_delivered',
  'receiving',
  'received',
] as const;
export const MessageStatus = z.enum(MESSAGE_STATUSES);

export const ConsentAction = z.enum(['opt_out', 'opt_in', 'help']);
/**
 * Who the consent applies to: one sender number, one messaging service, or the whole account (STOPALL) — for
 * texts — or `voice`: the account's do-not-call list for outbound calls (no SMS scope blocks a call, and a voice
 * opt-out blocks no text).
 */
export const ConsentScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sender'), sender: E164 }),
  z.object({ kind: z.literal('messaging_service'), messagingServiceSid: MessagingServiceSid }),
  z.object({ kind: z.literal('account') }),
  z.object({ kind: z.literal('voice') }),
]);

export const InboundReceivedData = z.object({
  channel: z.enum(['sms', 'mms', 'conversations']),
  messageSid: MessageSid,
  /** E.164 for SMS/MMS; for Conversations the author (a number for SMS participants, else an identity). */
  from: z.string().min(1),
  to: z.string().min(1).optional(),
  body: z.string(),
  media: z.array(Media).default([]),
  numSegments: z.number().int().nonnegative().optional(),
  messagingServiceSid: MessagingServiceSid.optional(),
  optOutType: z.enum(['STOP', 'START', 'HELP']).optional(),
  geo: z.record(z.string(), z.string()).optional(),
  conversationSid: ConversationSid.optional(),
  conversationIndex: z.number().int().nonnegative().optional(),
  participantSid: z.string().optional(),
  attributes: z.string().optional(),
});

export const StatusUpdatedData = z.object({
  messageSid: MessageSid,
  status: MessageStatus,
  /** Rank in queued → sending → sent → delivered|undelivered|failed; consumers keep the highest. */
  rank: z.number().int().nonnegative(),
  terminal: z.boolean(),
  /** False when a later status of this message was already seen (a late, out-of-order callback). */
  advances: z.boolean(),
  errorCode: z.number().int().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  messagingServiceSid: MessagingServiceSid.optional(),
  rawDlrDoneDate: z.string().optional(),
});

export const ConsentChangedData = z.object({
  action: ConsentAction,
  phoneNumber: E164,
  scope: ConsentScope,
  via: z.enum(['keyword', 'opt_out_type', 'error_21610', 'api']),
  keyword: z.string().optional(),
  messageSid: MessageSid.optional(),
  /** Why an operator changed it (`via: api`). */
  reason: z.string().max(500).optional(),
});

export const TemplateRef = z.object({
  name: z.string().min(1),
  variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

/**
 * How soon an egress request must go (docs/egress.md, "Priority lanes"): `urgent` (one-time codes, gate codes) is
 * served before everything else, `bulk` (marketing) gets only a share of the rate limit. Absent means `normal`;
 * the field is optional so envelopes written before it existed stay valid on the wire.
 */
export const EGRESS_PRIORITIES = ['urgent', 'normal', 'bulk'] as const;
export const EgressPriority = z.enum(EGRESS_PRIORITIES);
export type EgressPriority = z.output<typeof EgressPriority>;

export const OutboundRequestedData = z.object({
  /** One recipient, or use `recipients` for a bulk request (one outcome per recipient plus a summary). */
  to: z.string().min(1).optional(),
  recipients: z.array(z.string().min(1)).min(1).max(10000).optional(),
  from: z.string().min(1).optional(),
  messagingServiceSid: MessagingServiceSid.optional(),
  body: z.string().optional(),
  template: TemplateRef.optional(),
  mediaUrls: z.array(z.string()).max(10).optional(),
  sendAt: IsoTime.optional(),
  validityPeriodSecs: z.number().int().min(1).max(36000).optional(),
  statusCallbackUrl: Url.optional(),
  smartEncoded: z.boolean().optional(),
  /** Reply into a Twilio Conversation instead of sending an SMS. */
  conversationSid: ConversationSid.optional(),
  /** The lane the request travels in; absent = `normal` (see `priorityOf`). */
  priority: EgressPriority.optional(),
});

/** A request's priority, `normal` when it names none. */
export function priorityOf(data: { priority?: EgressPriority | undefined }): EgressPriority {
  return data.priority ?? 'normal';
}

export const CancelRequestedData = z.object({
  messageSid: MessageSid.optional(),
  /** The id of the sms.outbound.requested event whose scheduled message should be canceled. */
  requestId: z.string().min(1).optional(),
  /** The lane to send the cancel in: give it the priority of the request it cancels (absent = `normal`). */
  priority: EgressPriority.optional(),
});

export const OutboundAcceptedData = z.object({
  requestId: z.string().min(1),
  /**
   * The message's SID. Absent only on an auto-reply (`via: twiml_reply`): Twilio creates a TwiML reply's message
   * after our webhook answer, so its SID first appears in that message's status callbacks (docs/auto-replies.md).
   */
  messageSid: MessageSid.optional(),
  to: z.string().min(1),
  status: MessageStatus,
  numSegments: z.number().int().nonnegative(),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  attempts: z.number().int().min(1),
  /** True when the ledger or a reconciliation found the message already sent: no new SMS was created. */
  deduplicated: z.boolean().default(false),
  /** How it was handed to Twilio: absent = the REST API (every egress send); `twiml_reply` = an inbound auto-reply. */
  via: z.enum(['twiml_reply']).optional(),
  /** For an auto-reply: the MessageSid of the inbound message it answers. */
  inReplyTo: MessageSid.optional(),
});

export const OutboundRejectedData = z.object({
  requestId: z.string().min(1),
  to: z.string().optional(),
  code: z.string().min(1),
  reason: z.string().min(1),
  twilioErrorCode: z.number().int().optional(),
});

export const OutboundFailedData = z.object({
  requestId: z.string().min(1),
  to: z.string().optional(),
  code: z.string().min(1),
  reason: z.string().min(1),
  twilioErrorCode: z.number().int().optional(),
  attempts: z.number().int().min(0),
  retriable: z.boolean(),
});

export const OutboundCanceledData = z.object({
  requestId: z.string().min(1),
  messageSid: MessageSid,
  status: MessageStatus,
});

export const OutboundSummaryData = z.object({
  requestId: z.string().min(1),
  total: z.number().int().nonnegative(),
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});

const base = {
  specVersion: z.literal('2'),
  id: z.string().min(1).max(200),
  source: z.string().min(1).max(100),
  occurredAt: IsoTime,
  ingestedAt: IsoTime,
  tenant: z.object({ accountSid: AccountSid, messagingServiceSid: MessagingServiceSid.optional() }),
  subject: z.string().min(1),
  correlationId: z.string().min(1).optional(),
  causationId: z.string().min(1).optional(),
};

const variant = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ ...base, type: z.literal(type), data });

export const EVENT_TYPES = [
  'sms.inbound.received',
  'sms.status.updated',
  'sms.consent.changed',
  'sms.outbound.requested',
  'sms.outbound.cancel_requested',
  'sms.outbound.accepted',
  'sms.outbound.rejected',
  'sms.outbound.failed',
  'sms.outbound.canceled',
  'sms.outbound.summary',
  'voice.call.received',
  'voice.call.status',
  'voice.dial.completed',
  'voice.recording.completed',
  'voice.recording.failed',
  'voice.transcription.completed',
  'voice.call.requested',
  'voice.call.end_requested',
  'voice.call.accepted',
  'voice.call.rejected',
  'voice.call.failed',
] as const;

export const InternalEventV2 = z.discriminatedUnion('type', [
  variant('sms.inbound.received', InboundReceivedData),
  variant('sms.status.updated', StatusUpdatedData),
  variant('sms.consent.changed', ConsentChangedData),
  variant('sms.outbound.requested', OutboundRequestedData),
  variant('sms.outbound.cancel_requested', CancelRequestedData),
  variant('sms.outbound.accepted', OutboundAcceptedData),
  variant('sms.outbound.rejected', OutboundRejectedData),
  variant('sms.outbound.failed', OutboundFailedData),
  variant('sms.outbound.canceled', OutboundCanceledData),
  variant('sms.outbound.summary', OutboundSummaryData),
  variant('voice.call.received', CallReceivedData),
  variant('voice.call.status', CallStatusData),
  variant('voice.dial.completed', DialCompletedData),
  variant('voice.recording.completed', RecordingData),
  variant('voice.recording.failed', RecordingData),
  variant('voice.transcription.completed', TranscriptionData),
  variant('voice.call.requested', CallRequestedData),
  variant('voice.call.end_requested', CallEndRequestedData),
  variant('voice.call.accepted', CallAcceptedData),
  variant('voice.call.rejected', CallRejectedData),
  variant('voice.call.failed', CallFailedData),
]);

export type InternalEventV2 = z.output<typeof InternalEventV2>;
export type InternalEventV2Input = z.input<typeof InternalEventV2>;
export type EventType = InternalEventV2['type'];
export type EventOf<T extends EventType> = Extract<InternalEventV2, { type: T }>;
export type DataOf<T extends EventType> = EventOf<T>['data'];
export type ConsentScope = z.output<typeof ConsentScope>;
export type MessageStatus = z.output<typeof MessageStatus>;
