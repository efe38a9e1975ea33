import { z } from 'zod';

/**
 * The `data` shapes of the voice events (docs/voice.md). Values Twilio may
 * extend (Direction, AnsweredBy, StirVerstat, recording source) are strings,
 * so a new value Twilio starts sending never turns a call into a refused
 * webhook; the statuses that carry a rank are enums.
 */

export const CallSid = z.string().regex(/^CA[0-9a-fA-F]{32}$/, { message: 'must be a CA SID' });
export const RecordingSid = z.string().regex(/^RE[0-9a-fA-F]{32}$/, { message: 'must be an RE SID' });
export const TranscriptionSid = z.string().regex(/^TR[0-9a-fA-F]{32}$/, { message: 'must be a TR SID' });

/**
 * An http(s) URL without user name or password: recording URLs in events are
 * fetched with the account's credentials by whoever is allowed to, never
 * carried in the URL.
 */
export const MediaUrl = z
  .string()
  .url({ message: 'must be a URL' })
  .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v), {
    message: 'must not contain credentials',
  });

export const CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
] as const;
export const CallStatus = z.enum(CALL_STATUSES);

/** `DialCallStatus` of a `<Dial action>` request. */
export const DIAL_CALL_STATUSES = ['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled'] as const;
export const DialCallStatus = z.enum(DIAL_CALL_STATUSES);

export const RECORDING_STATUSES = ['in-progress', 'completed', 'absent', 'failed'] as const;
export const RecordingStatus = z.enum(RECORDING_STATUSES);

/** What the incoming-call answer did with the call (the routing file's rule). */
export const VoiceRouteAction = z.enum(['forward', 'voicemail', 'reject', 'busy']);

export const CallReceivedData = z.object({
  callSid: CallSid,
  /** Usually E.164; `anonymous`, `client:…` or a SIP URI are possible too. */
  from: z.string().min(1),
  to: z.string().min(1),
  direction: z.string().min(1),
  callStatus: CallStatus.optional(),
  forwardedFrom: z.string().min(1).optional(),
  callerName: z.string().min(1).optional(),
  /** STIR/SHAKEN verification of the caller id (e.g. TN-Validation-Passed-A). */
  stirVerstat: z.string().min(1).optional(),
  parentCallSid: CallSid.optional(),
  /** FromCity, FromState, FromZip, FromCountry, ToCity, … as Twilio sent them. */
  geo: z.record(z.string(), z.string()).optional(),
  /** How the call was answered: the routing rule's name (the called number or `default`) and its action. */
  route: z.object({ name: z.string().min(1), action: VoiceRouteAction }).optional(),
});

export const CallStatusData = z.object({
  callSid: CallSid,
  status: CallStatus,
  /** Rank in queued → initiated → ringing → in-progress → terminal; consumers keep the highest. */
  rank: z.number().int().nonnegative(),
  terminal: z.boolean(),
  /** False when a later status of this call was already seen (by SequenceNumber, then rank). */
  advances: z.boolean(),
  sequenceNumber: z.number().int().nonnegative().optional(),
  /** Seconds, on the completed callback. */
  callDurationSecs: z.number().int().nonnegative().optional(),
  /** Twilio's `Timestamp` of the status change (RFC 2822 text as sent). */
  timestamp: z.string().min(1).optional(),
  /** Answering machine detection: human, machine_start, fax, unknown, … */
  answeredBy: z.string().min(1).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  direction: z.string().optional(),
  parentCallSid: CallSid.optional(),
  sipResponseCode: z.number().int().optional(),
  errorCode: z.number().int().optional(),
});

export const DialCompletedData = z.object({
  callSid: CallSid,
  dialCallStatus: DialCallStatus,
  /** True when the forwarded leg was answered (DialCallStatus completed or answered). False is a missed call. */
  answered: z.boolean(),
  dialCallSid: CallSid.optional(),
  dialCallDurationSecs: z.number().int().nonnegative().optional(),
  dialBridged: z.boolean().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  /** The number the call was forwarded to (from the routing rule). */
  forwardedTo: z.string().optional(),
  route: z.string().min(1).optional(),
});

export const RecordingData = z.object({
  recordingSid: RecordingSid,
  callSid: CallSid,
  status: RecordingStatus,
  /** The recording's media URL, never with credentials (fetch it with the account's, e.g. GET /api/calls/{CallSid}/recording). */
  mediaUrl: MediaUrl.optional(),
  durationSecs: z.number().int().nonnegative().optional(),
  channels: z.number().int().min(1).max(2).optional(),
  /** RecordVerb, DialVerb, OutboundAPI, StartCallRecordingAPI, … */
  source: z.string().min(1).optional(),
  startTime: z.string().min(1).optional(),
  track: z.string().min(1).optional(),
  errorCode: z.number().int().optional(),
});

export const TranscriptionData = z.object({
  transcriptionSid: TranscriptionSid,
  callSid: CallSid,
  recordingSid: RecordingSid.optional(),
  /** `failed` transcriptions are published too (without text), so a voicemail never disappears silently. */
  status: z.enum(['completed', 'failed']),
  text: z.string().optional(),
  mediaUrl: MediaUrl.optional(),
  from: z.string().optional(),
  to: z.string().optional(),
});

export const CALL_STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

export const CallRequestedData = z.object({
  to: z.string().min(1),
  /** Default TWILIO_PHONE_NUMBER. */
  from: z.string().min(1).optional(),
  /** TwiML the call runs, or `routing`: a rule name of the routing file (VOICE_ROUTING_FILE). */
  twiml: z.string().min(1).optional(),
  routing: z.string().min(1).optional(),
  record: z.boolean().optional(),
  machineDetection: z.enum(['Enable', 'DetectMessageEnd']).optional(),
  statusCallbackUrl: z.string().url({ message: 'must be a URL' }).optional(),
  statusCallbackEvents: z.array(z.enum(CALL_STATUS_EVENTS)).min(1).optional(),
  /** Seconds to let the callee's phone ring. */
  timeoutSecs: z.number().int().min(1).max(600).optional(),
  /** Longest call, in seconds. */
  timeLimitSecs: z.number().int().min(1).max(86400).optional(),
});

export const CallEndRequestedData = z.object({
  callSid: CallSid.optional(),
  /** The id of the voice.call.requested event whose call should be ended. */
  requestId: z.string().min(1).optional(),
});

export const CallAcceptedData = z.object({
  requestId: z.string().min(1),
  callSid: CallSid,
  to: z.string().min(1).optional(),
  status: CallStatus,
  attempts: z.number().int().min(1),
  /** True when the ledger or a reconciliation found the call already placed (or ended): no new call. */
  deduplicated: z.boolean().default(false),
});

export const CallRejectedData = z.object({
  requestId: z.string().min(1),
  to: z.string().optional(),
  code: z.string().min(1),
  reason: z.string().min(1),
  twilioErrorCode: z.number().int().optional(),
});

export const CallFailedData = z.object({
  requestId: z.string().min(1),
  to: z.string().optional(),
  code: z.string().min(1),
  reason: z.string().min(1),
  twilioErrorCode: z.number().int().optional(),
  attempts: z.number().int().min(0),
  retriable: z.boolean(),
});

export type CallStatus = z.output<typeof CallStatus>;
export type DialCallStatus = z.output<typeof DialCallStatus>;
export type RecordingStatus = z.output<typeof RecordingStatus>;
export type VoiceRouteAction = z.output<typeof VoiceRouteAction>;
