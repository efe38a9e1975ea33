import {
  SmsEnvelopeBuilder,
  VoiceEnvelopeBuilder,
  type EventOf,
  type EventType,
  type InternalEventV2,
} from '../../src/envelope';
import { clockFrom } from '../../src/common/clock';

/** Fixed values so tests read clearly; SIDs have the right shape. */
export const ACCOUNT_SID = 'AC' + '0'.repeat(31) + '1';
export const MESSAGING_SERVICE_SID = 'MG' + '0'.repeat(31) + '2';
export const CUSTOMER = '+14155550123';
export const SENDER = '+14155550100';
export const messageSid = (n: number, prefix: 'SM' | 'MM' | 'IM' = 'SM') => prefix + n.toString(16).padStart(32, '0');
export const CONVERSATION_SID = 'CH' + 'a'.repeat(32);
export const callSid = (n: number) => 'CA' + n.toString(16).padStart(32, '0');
export const recordingSid = (n: number) => 'RE' + n.toString(16).padStart(32, '0');
export const transcriptionSid = (n: number) => 'TR' + n.toString(16).padStart(32, '0');
export const FORWARD_TO = '+14155550199';

const FIXED_CLOCK = clockFrom(() => Date.parse('2024-05-01T12:00:00.000Z'));

/**
 * One valid envelope of every type, built through SmsEnvelopeBuilder. The
 * Record type makes adding an event type without a sample a compile error.
 */
export function sampleEnvelopes(builder = new SmsEnvelopeBuilder(FIXED_CLOCK)): Record<EventType, InternalEventV2> {
  const inbound = builder.inboundFromWebhook({
    MessageSid: messageSid(1, 'MM'),
    AccountSid: ACCOUNT_SID,
    MessagingServiceSid: MESSAGING_SERVICE_SID,
    From: CUSTOMER,
    To: SENDER,
    Body: 'Hello ✓ {braces}',
    NumMedia: '1',
    NumSegments: '1',
    MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/x/Messages/y/Media/z',
    MediaContentType0: 'image/jpeg',
    FromCountry: 'US',
  });
  const request = builder.build('sms.outbound.requested', {
    accountSid: ACCOUNT_SID,
    messagingServiceSid: MESSAGING_SERVICE_SID,
    subject: CUSTOMER,
    correlationId: 'corr-1',
    data: {
      to: CUSTOMER,
      messagingServiceSid: MESSAGING_SERVICE_SID,
      template: { name: 'welcome', variables: { name: 'Ada', count: 2, vip: true } },
      mediaUrls: ['https://example.com/a.png'],
      sendAt: '2024-05-02T09:00:00.000Z',
      validityPeriodSecs: 3600,
    },
  });
  const samples: Record<EventType, InternalEventV2> = {
    'sms.inbound.received': inbound,
    'sms.status.updated': builder.statusFromCallback({
      MessageSid: messageSid(2),
      MessageStatus: 'undelivered',
      AccountSid: ACCOUNT_SID,
      From: SENDER,
      To: CUSTOMER,
      ErrorCode: '30003',
    }),
    'sms.consent.changed': builder.consentChanged({
      accountSid: ACCOUNT_SID,
      action: 'opt_out',
      phoneNumber: CUSTOMER,
      scope: { kind: 'sender', sender: SENDER },
      via: 'keyword',
      keyword: 'STOP',
      messageSid: messageSid(3),
    }),
    'sms.outbound.requested': request,
    'sms.outbound.cancel_requested': builder.build('sms.outbound.cancel_requested', {
      accountSid: ACCOUNT_SID,
      subject: CUSTOMER,
      data: { requestId: request.id },
    }),
    'sms.outbound.accepted': builder.outcome(request, 'sms.outbound.accepted', {
      requestId: request.id,
      messageSid: messageSid(4),
      to: CUSTOMER,
      status: 'queued',
      numSegments: 1,
      encoding: 'GSM-7',
      attempts: 1,
      deduplicated: false,
    }),
    'sms.outbound.rejected': builder.outcome(request, 'sms.outbound.rejected', {
      requestId: request.id,
      to: CUSTOMER,
      code: 'OPTED_OUT',
      reason: 'recipient opted out',
      twilioErrorCode: 21610,
    }),
    'sms.outbound.failed': builder.outcome(request, 'sms.outbound.failed', {
      requestId: request.id,
      to: CUSTOMER,
      code: 'TWILIO_UNAVAILABLE',
      reason: 'Twilio answered 503',
      attempts: 3,
      retriable: true,
    }),
    'sms.outbound.canceled': builder.outcome(request, 'sms.outbound.canceled', {
      requestId: request.id,
      messageSid: messageSid(5),
      status: 'canceled',
    }),
    'sms.outbound.summary': builder.outcome(request, 'sms.outbound.summary', {
      requestId: request.id,
      total: 3,
      accepted: 1,
      rejected: 1,
      failed: 1,
    }),
    ...voiceSamples(new VoiceEnvelopeBuilder(FIXED_CLOCK)),
  };
  return samples;
}

type VoiceType = Extract<EventType, `voice.${string}`>;

/** One valid envelope of every voice type, built through VoiceEnvelopeBuilder from Twilio-shaped parameters. */
export function voiceSamples(voice = new VoiceEnvelopeBuilder(FIXED_CLOCK)): Record<VoiceType, InternalEventV2> {
  const call = { CallSid: callSid(1), AccountSid: ACCOUNT_SID, From: CUSTOMER, To: SENDER, Direction: 'inbound' };
  const request = voice.build('voice.call.requested', {
    accountSid: ACCOUNT_SID,
    subject: CUSTOMER,
    correlationId: 'corr-call-1',
    data: {
      to: CUSTOMER,
      from: SENDER,
      routing: 'support',
      record: true,
      machineDetection: 'Enable',
      statusCallbackUrl: 'https://example.com/voice/status',
      statusCallbackEvents: ['initiated', 'answered', 'completed'],
      timeoutSecs: 30,
    },
  });
  return {
    'voice.call.received': voice.callReceived(
      { ...call, CallStatus: 'ringing', FromCountry: 'US', StirVerstat: 'TN-Validation-Passed-A' },
      { name: SENDER, action: 'forward' },
    ),
    'voice.call.status': voice.callStatus({
      ...call,
      CallStatus: 'completed',
      SequenceNumber: '3',
      CallDuration: '42',
      Timestamp: 'Wed, 01 May 2024 12:00:42 +0000',
      AnsweredBy: 'human',
    }),
    'voice.dial.completed': voice.dialCompleted(
      { ...call, DialCallStatus: 'no-answer', DialCallSid: callSid(2), DialCallDuration: '0' },
      { route: SENDER, forwardedTo: FORWARD_TO },
    ),
    'voice.recording.completed': voice.recording({
      CallSid: callSid(1),
      AccountSid: ACCOUNT_SID,
      RecordingSid: recordingSid(1),
      RecordingStatus: 'completed',
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid(1)}`,
      RecordingDuration: '17',
      RecordingChannels: '1',
      RecordingSource: 'RecordVerb',
    })!,
    'voice.recording.failed': voice.recording({
      CallSid: callSid(1),
      AccountSid: ACCOUNT_SID,
      RecordingSid: recordingSid(2),
      RecordingStatus: 'failed',
      ErrorCode: '13617',
    })!,
    'voice.transcription.completed': voice.transcription({
      ...call,
      TranscriptionSid: transcriptionSid(1),
      RecordingSid: recordingSid(1),
      TranscriptionStatus: 'completed',
      TranscriptionText: 'Please call me back about my order.',
    }),
    'voice.call.requested': request,
    'voice.call.end_requested': voice.build('voice.call.end_requested', {
      accountSid: ACCOUNT_SID,
      subject: CUSTOMER,
      data: { callSid: callSid(3) },
    }),
    'voice.call.accepted': voice.outcome(request, 'voice.call.accepted', {
      requestId: request.id,
      callSid: callSid(3),
      to: CUSTOMER,
      status: 'queued',
      attempts: 1,
      deduplicated: false,
    }),
    'voice.call.rejected': voice.outcome(request, 'voice.call.rejected', {
      requestId: request.id,
      to: CUSTOMER,
      code: 'DO_NOT_CALL',
      reason: 'recipient is on the do-not-call list',
    }),
    'voice.call.failed': voice.outcome(request, 'voice.call.failed', {
      requestId: request.id,
      to: CUSTOMER,
      code: 'TWILIO_UNAVAILABLE',
      reason: 'Twilio answered 503',
      attempts: 3,
      retriable: true,
    }),
  };
}

/**
 * A valid inbound envelope with its own id (MessageSid from `n`), from one of
 * `customers` numbers (n modulo customers), for volume tests and benchmarks.
 */
export function inboundEnvelope(
  n: number,
  options: { customers?: number; builder?: SmsEnvelopeBuilder } = {},
): EventOf<'sms.inbound.received'> {
  const customer = n % (options.customers ?? 1_000_000);
  return (options.builder ?? new SmsEnvelopeBuilder(FIXED_CLOCK)).inboundFromWebhook({
    MessageSid: messageSid(n),
    AccountSid: ACCOUNT_SID,
    From: `+1415${String(5_000_000 + customer).padStart(7, '0')}`,
    To: SENDER,
    Body: `message number ${n}`,
    NumSegments: '1',
  });
}
