import { readVoiceParams, VOICE_PARAM_RULES } from '../../../../src/twilio/voice/voice-params';

const ACCOUNT = 'AC' + '1'.repeat(32);
const CALL = 'CA' + '2'.repeat(32);

describe('readVoiceParams', () => {
  it('accepts a status callback and keeps every parameter', () => {
    const r = readVoiceParams(
      { AccountSid: ACCOUNT, CallSid: CALL, CallStatus: 'no-answer', SequenceNumber: '2', Extra: 'x' },
      VOICE_PARAM_RULES.status,
    );
    expect(r).toEqual({ ok: true, params: expect.objectContaining({ Extra: 'x', CallStatus: 'no-answer' }) });
  });

  it.each([
    [{ CallSid: CALL, CallStatus: 'ringing' }, 'missing AccountSid'],
    [{ AccountSid: ACCOUNT, CallSid: 'SM' + '2'.repeat(32), CallStatus: 'ringing' }, 'CallSid must be a CA SID'],
    [{ AccountSid: ACCOUNT, CallSid: CALL, CallStatus: 'lost' }, 'CallStatus must be one of'],
    [
      { AccountSid: ACCOUNT, CallSid: CALL, CallStatus: 'ringing', SequenceNumber: '-1' },
      'SequenceNumber must be a whole number',
    ],
    [{ AccountSid: ACCOUNT, CallSid: [CALL, CALL], CallStatus: 'ringing' }, 'parameter CallSid is repeated'],
  ])('refuses %j: %s', (raw, reason) => {
    const r = readVoiceParams(raw, VOICE_PARAM_RULES.status);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it('checks what each route needs', () => {
    const base = { AccountSid: ACCOUNT, CallSid: CALL };
    expect(readVoiceParams(base, VOICE_PARAM_RULES.call).ok).toBe(true);
    expect(readVoiceParams({ ...base, DialCallStatus: 'busy' }, VOICE_PARAM_RULES.dial).ok).toBe(true);
    expect(readVoiceParams({ ...base, DialCallStatus: 'maybe' }, VOICE_PARAM_RULES.dial).ok).toBe(false);
    expect(
      readVoiceParams(
        { ...base, RecordingSid: 'RE' + '3'.repeat(32), RecordingStatus: 'absent' },
        VOICE_PARAM_RULES.recording,
      ).ok,
    ).toBe(true);
    expect(
      readVoiceParams({ ...base, RecordingSid: 'RE1', RecordingStatus: 'completed' }, VOICE_PARAM_RULES.recording).ok,
    ).toBe(false);
    expect(
      readVoiceParams({ ...base, TranscriptionSid: 'TR' + '4'.repeat(32) }, VOICE_PARAM_RULES.transcription).ok,
    ).toBe(true);
  });
});
