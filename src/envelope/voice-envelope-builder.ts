import { deterministicEventId } from './event-id';
import { compact, toInt } from './fields';
import type { DataOf, EventOf, InternalEventV2 } from './schema';
import { SmsEnvelopeBuilder, type TwilioParams } from './sms-envelope-builder';
import { systemClock, type Clock } from '../common/clock';
import { CALL_STATUSES, type CallStatus, type DialCallStatus, type VoiceRouteAction } from './voice-schema';
import { CALL_STATUS_RANK, isAnsweredDial, isTerminalCallStatus } from './voice-status';

const GEO_FIELDS = [
  'FromCity',
  'FromState',
  'FromZip',
  'FromCountry',
  'ToCity',
  'ToState',
  'ToZip',
  'ToCountry',
  'CallerCity',
  'CallerState',
  'CallerZip',
  'CallerCountry',
  'CalledCity',
  'CalledState',
  'CalledZip',
  'CalledCountry',
];

export type VoiceOutcomeType = 'voice.call.accepted' | 'voice.call.rejected' | 'voice.call.failed';

/**
 * A URL without user name and password (and undefined for text that is not a
 * URL): what recording and transcription URLs become before they enter an
 * event or a log line.
 */
export function withoutCredentials(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/**
 * Builds validated voice envelopes from Twilio's voice webhook parameters.
 * Ids are deterministic (the same callback twice ⇒ the same id), so the
 * outbox's replays and Twilio's retries deduplicate downstream.
 */
export class VoiceEnvelopeBuilder {
  private readonly envelopes: SmsEnvelopeBuilder;

  constructor(clock: Clock = systemClock, source = 'twilio') {
    this.envelopes = new SmsEnvelopeBuilder(clock, source);
  }

  /** The incoming-call webhook → voice.call.received (with the route it was answered by). */
  callReceived(p: TwilioParams, route?: { name: string; action: VoiceRouteAction }): EventOf<'voice.call.received'> {
    const callSid = p.CallSid ?? '';
    const geo: Record<string, string> = {};
    for (const f of GEO_FIELDS) if (p[f]) geo[f] = p[f]!;
    return this.envelopes.build('voice.call.received', {
      id: deterministicEventId('voice.call.received', callSid),
      accountSid: p.AccountSid ?? '',
      subject: callSid,
      data: compact({
        callSid,
        from: p.From || p.Caller || 'anonymous',
        to: p.To || p.Called || '',
        direction: p.Direction || 'inbound',
        callStatus: callStatusOf(p.CallStatus),
        forwardedFrom: p.ForwardedFrom || undefined,
        callerName: p.CallerName || undefined,
        stirVerstat: p.StirVerstat || undefined,
        parentCallSid: p.ParentCallSid || undefined,
        geo: Object.keys(geo).length > 0 ? geo : undefined,
        route,
      }) as DataOf<'voice.call.received'>,
    });
  }

  /** A call status callback → voice.call.status. `advances` comes from the caller's tracker. */
  callStatus(p: TwilioParams, advances = true): EventOf<'voice.call.status'> {
    const callSid = p.CallSid ?? '';
    const status = (p.CallStatus ?? '') as CallStatus;
    const sequenceNumber = toInt(p.SequenceNumber);
    return this.envelopes.build('voice.call.status', {
      id: deterministicEventId('voice.call.status', callSid, status, sequenceNumber ?? ''),
      accountSid: p.AccountSid ?? '',
      subject: callSid,
      occurredAt: dateOf(p.Timestamp),
      data: compact({
        callSid,
        status,
        rank: CALL_STATUS_RANK[status] ?? 0,
        terminal: status in CALL_STATUS_RANK ? isTerminalCallStatus(status) : false,
        advances,
        sequenceNumber,
        callDurationSecs: toInt(p.CallDuration),
        timestamp: p.Timestamp || undefined,
        answeredBy: p.AnsweredBy || undefined,
        from: p.From || undefined,
        to: p.To || undefined,
        direction: p.Direction || undefined,
        parentCallSid: p.ParentCallSid || undefined,
        sipResponseCode: toInt(p.SipResponseCode),
        errorCode: toInt(p.ErrorCode),
      }) as DataOf<'voice.call.status'>,
    });
  }

  /** The `<Dial action>` request → voice.dial.completed (answered false: a missed call). */
  dialCompleted(p: TwilioParams, rule: { route?: string; forwardedTo?: string } = {}): EventOf<'voice.dial.completed'> {
    const callSid = p.CallSid ?? '';
    const dialCallStatus = (p.DialCallStatus ?? '') as DialCallStatus;
    return this.envelopes.build('voice.dial.completed', {
      id: deterministicEventId('voice.dial.completed', callSid, p.DialCallSid ?? '', dialCallStatus),
      accountSid: p.AccountSid ?? '',
      subject: callSid,
      data: compact({
        callSid,
        dialCallStatus,
        answered: isAnsweredDial(dialCallStatus),
        dialCallSid: p.DialCallSid || undefined,
        dialCallDurationSecs: toInt(p.DialCallDuration),
        dialBridged: p.DialBridged === undefined || p.DialBridged === '' ? undefined : p.DialBridged === 'true',
        from: p.From || undefined,
        to: p.To || undefined,
        forwardedTo: rule.forwardedTo,
        route: rule.route,
      }) as DataOf<'voice.dial.completed'>,
    });
  }

  /**
   * A recording status callback → voice.recording.completed (status completed)
   * or voice.recording.failed (failed, absent). `in-progress` is not an event:
   * undefined.
   */
  recording(p: TwilioParams): EventOf<'voice.recording.completed' | 'voice.recording.failed'> | undefined {
    const status = p.RecordingStatus ?? '';
    if (status === 'in-progress') return undefined;
    const type = status === 'completed' ? 'voice.recording.completed' : 'voice.recording.failed';
    const recordingSid = p.RecordingSid ?? '';
    return this.envelopes.build(type, {
      id: deterministicEventId(type, recordingSid, status),
      accountSid: p.AccountSid ?? '',
      subject: p.CallSid ?? '',
      data: compact({
        recordingSid,
        callSid: p.CallSid ?? '',
        status,
        mediaUrl: withoutCredentials(p.RecordingUrl),
        durationSecs: toInt(p.RecordingDuration),
        channels: toInt(p.RecordingChannels),
        source: p.RecordingSource || undefined,
        startTime: p.RecordingStartTime || undefined,
        track: p.RecordingTrack || undefined,
        errorCode: toInt(p.ErrorCode),
      }) as DataOf<'voice.recording.completed'>,
    });
  }

  /** A transcription callback (`<Record transcribeCallback>`) → voice.transcription.completed. */
  transcription(p: TwilioParams): EventOf<'voice.transcription.completed'> {
    const transcriptionSid = p.TranscriptionSid ?? '';
    const status = p.TranscriptionStatus === 'failed' ? 'failed' : 'completed';
    return this.envelopes.build('voice.transcription.completed', {
      id: deterministicEventId('voice.transcription.completed', transcriptionSid),
      accountSid: p.AccountSid ?? '',
      subject: p.CallSid ?? '',
      data: compact({
        transcriptionSid,
        callSid: p.CallSid ?? '',
        recordingSid: p.RecordingSid || undefined,
        status,
        text: p.TranscriptionText ?? undefined,
        mediaUrl: withoutCredentials(p.TranscriptionUrl),
        from: p.From || undefined,
        to: p.To || undefined,
      }) as DataOf<'voice.transcription.completed'>,
    });
  }

  /** An outcome of a voice egress request: correlation and causation link back to the request. */
  outcome<T extends VoiceOutcomeType>(
    request: InternalEventV2,
    type: T,
    data: DataOf<T>,
    discriminator = '',
  ): EventOf<T> {
    return this.envelopes.build(type, {
      id: deterministicEventId(type, request.id, discriminator),
      accountSid: request.tenant.accountSid,
      messagingServiceSid: request.tenant.messagingServiceSid,
      subject: request.subject,
      correlationId: request.correlationId ?? request.id,
      causationId: request.id,
      source: request.source,
      data,
    });
  }

  /** Any envelope, validated (requests built by producers and tests). */
  build: SmsEnvelopeBuilder['build'] = (type, f) => this.envelopes.build(type, f);
}

function callStatusOf(v: string | undefined): CallStatus | undefined {
  return (CALL_STATUSES as readonly string[]).includes(v ?? '') ? (v as CallStatus) : undefined;
}

/** Twilio's Timestamp (RFC 2822, e.g. `Tue, 05 Dec 2023 10:00:00 +0000`) as a Date; undefined if unparseable. */
function dateOf(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
