import {
  CALL_STATUS_RANK,
  EnvelopeValidationError,
  parseEnvelope,
  VoiceEnvelopeBuilder,
  withoutCredentials,
} from '../../../src/envelope';
import {
  ACCOUNT_SID,
  callSid,
  CUSTOMER,
  recordingSid,
  SENDER,
  transcriptionSid,
  voiceSamples,
} from '../../helpers/envelopes';
import { clockFrom } from '../../../src/common/clock';

const clock = clockFrom(() => Date.parse('2024-05-01T12:00:00.000Z'));
const call = { CallSid: callSid(1), AccountSid: ACCOUNT_SID, From: CUSTOMER, To: SENDER, Direction: 'inbound' };

describe('VoiceEnvelopeBuilder', () => {
  const voice = new VoiceEnvelopeBuilder(clock);

  it('builds voice.call.received with the caller fields, geo and the route; the id depends on the CallSid only', () => {
    const e = voice.callReceived(
      {
        ...call,
        CallStatus: 'ringing',
        ForwardedFrom: '+14155550111',
        StirVerstat: 'TN-Validation-Passed-A',
        CallerName: 'ADA',
        FromCity: 'SAN FRANCISCO',
        CallerCountry: 'US',
        Unknown: 'x',
      },
      { name: 'default', action: 'voicemail' },
    );
    expect(e.type).toBe('voice.call.received');
    expect(e.subject).toBe(callSid(1));
    expect(e.data).toEqual({
      callSid: callSid(1),
      from: CUSTOMER,
      to: SENDER,
      direction: 'inbound',
      callStatus: 'ringing',
      forwardedFrom: '+14155550111',
      callerName: 'ADA',
      stirVerstat: 'TN-Validation-Passed-A',
      geo: { FromCity: 'SAN FRANCISCO', CallerCountry: 'US' },
      route: { name: 'default', action: 'voicemail' },
    });
    expect(voice.callReceived(call).id).toBe(e.id);
    expect(new VoiceEnvelopeBuilder(clockFrom(() => 0)).callReceived({ ...call, CallSid: callSid(2) }).id).not.toBe(
      e.id,
    );
  });

  it('an anonymous caller is still a valid event', () => {
    expect(voice.callReceived({ ...call, From: '' }).data.from).toBe('anonymous');
  });

  it('builds voice.call.status with rank, terminal, sequence number, duration and AnsweredBy; occurredAt from Timestamp', () => {
    const e = voice.callStatus(
      {
        ...call,
        CallStatus: 'completed',
        SequenceNumber: '3',
        CallDuration: '42',
        Timestamp: 'Wed, 01 May 2024 11:59:00 +0000',
        AnsweredBy: 'machine_start',
      },
      false,
    );
    expect(e.data).toMatchObject({
      status: 'completed',
      rank: 4,
      terminal: true,
      advances: false,
      sequenceNumber: 3,
      callDurationSecs: 42,
      answeredBy: 'machine_start',
    });
    expect(e.occurredAt).toBe('2024-05-01T11:59:00.000Z');
    expect(voice.callStatus({ ...call, CallStatus: 'ringing' }).data).toMatchObject({ rank: 2, terminal: false });
    expect(CALL_STATUS_RANK['in-progress']).toBe(3);
  });

  it('distinct statuses and sequence numbers have distinct ids; a repeat has the same', () => {
    const a = voice.callStatus({ ...call, CallStatus: 'ringing', SequenceNumber: '1' });
    expect(voice.callStatus({ ...call, CallStatus: 'ringing', SequenceNumber: '1' }).id).toBe(a.id);
    expect(voice.callStatus({ ...call, CallStatus: 'ringing', SequenceNumber: '2' }).id).not.toBe(a.id);
    expect(voice.callStatus({ ...call, CallStatus: 'in-progress', SequenceNumber: '1' }).id).not.toBe(a.id);
  });

  it('refuses an unknown call status (a 400, not a silent event)', () => {
    expect(() => voice.callStatus({ ...call, CallStatus: 'exploded' })).toThrow(EnvelopeValidationError);
  });

  it.each([
    ['no-answer', false],
    ['busy', false],
    ['failed', false],
    ['canceled', false],
    ['completed', true],
    ['answered', true],
  ])('voice.dial.completed with DialCallStatus %s is answered=%s', (status, answered) => {
    const e = voice.dialCompleted(
      { ...call, DialCallStatus: status, DialCallSid: callSid(9) },
      { forwardedTo: '+1415' },
    );
    expect(e.data.answered).toBe(answered);
    expect(e.data.dialCallStatus).toBe(status);
  });

  it('maps recording statuses to completed / failed and skips in-progress', () => {
    const rec = { CallSid: callSid(1), AccountSid: ACCOUNT_SID, RecordingSid: recordingSid(1) };
    expect(voice.recording({ ...rec, RecordingStatus: 'completed', RecordingDuration: '5' })!.type).toBe(
      'voice.recording.completed',
    );
    expect(voice.recording({ ...rec, RecordingStatus: 'failed', ErrorCode: '13617' })!.data).toMatchObject({
      status: 'failed',
      errorCode: 13617,
    });
    expect(voice.recording({ ...rec, RecordingStatus: 'absent' })!.type).toBe('voice.recording.failed');
    expect(voice.recording({ ...rec, RecordingStatus: 'in-progress' })).toBeUndefined();
  });

  it('strips credentials from a recording URL before it enters the event', () => {
    const e = voice.recording({
      CallSid: callSid(1),
      AccountSid: ACCOUNT_SID,
      RecordingSid: recordingSid(1),
      RecordingStatus: 'completed',
      RecordingUrl: `https://${ACCOUNT_SID}:secret-token@api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/RE1`,
    })!;
    expect(e.data.mediaUrl).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/RE1`);
    expect(JSON.stringify(e)).not.toContain('secret-token');
  });

  it('builds voice.transcription.completed, also for a failed transcription', () => {
    const t = { ...call, TranscriptionSid: transcriptionSid(1), RecordingSid: recordingSid(1) };
    expect(voice.transcription({ ...t, TranscriptionStatus: 'completed', TranscriptionText: 'hi' }).data).toMatchObject(
      {
        status: 'completed',
        text: 'hi',
      },
    );
    expect(voice.transcription({ ...t, TranscriptionStatus: 'failed' }).data.status).toBe('failed');
  });

  it('links outcomes to their request', () => {
    const samples = voiceSamples(voice);
    const request = samples['voice.call.requested'];
    const outcome = samples['voice.call.accepted'];
    expect(outcome.causationId).toBe(request.id);
    expect(outcome.correlationId).toBe('corr-call-1');
    expect(outcome.subject).toBe(request.subject);
  });
});

describe('voice schema', () => {
  const samples = voiceSamples(new VoiceEnvelopeBuilder(clock));

  it('refuses a media URL with credentials, whoever built the envelope', () => {
    const rec = samples['voice.recording.completed'];
    const withCreds = { ...rec, data: { ...rec.data, mediaUrl: 'https://user:pw@api.twilio.com/x' } };
    expect(() => parseEnvelope(withCreds)).toThrow(/data\.mediaUrl must not contain credentials/);
    const userOnly = { ...rec, data: { ...rec.data, mediaUrl: 'https://user@api.twilio.com/x' } };
    expect(() => parseEnvelope(userOnly)).toThrow(EnvelopeValidationError);
  });

  it('refuses SIDs of the wrong kind', () => {
    const rec = samples['voice.call.status'];
    expect(() => parseEnvelope({ ...rec, data: { ...rec.data, callSid: 'SM' + '0'.repeat(32) } })).toThrow(
      /data\.callSid must be a CA SID/,
    );
  });
});

describe('withoutCredentials', () => {
  it('keeps a clean URL as it is and drops what is not an http(s) URL', () => {
    expect(withoutCredentials('https://api.twilio.com/a?b=1')).toBe('https://api.twilio.com/a?b=1');
    expect(withoutCredentials('https://u:p@h.example/a')).toBe('https://h.example/a');
    expect(withoutCredentials('not a url')).toBeUndefined();
    expect(withoutCredentials('ftp://h.example/a')).toBeUndefined();
    expect(withoutCredentials(undefined)).toBeUndefined();
  });
});
