import { VoiceRouting } from '../../../../src/twilio/voice/voice-routing';
import { VoiceTwiml } from '../../../../src/twilio/voice/voice-twiml';

const BASE = 'https://voice.example.com';
const routing = VoiceRouting.from({
  rules: {
    desk: {
      action: 'forward',
      to: ['+14155550199', '+14155550198'],
      timeoutSecs: 25,
      callerId: '+14155550100',
      record: true,
      voicemailWhenUnanswered: { greeting: { play: 'https://example.com/sorry.mp3' }, maxLengthSecs: 30 },
    },
    plain: { action: 'forward', to: '+14155550199' },
    vm: {
      action: 'voicemail',
      greeting: { say: 'Leave a message', voice: 'Polly.Joanna', language: 'en-US' },
      transcribe: true,
    },
    quiet: { action: 'voicemail', playBeep: false },
  },
  default: { action: 'reject' },
});
const route = (name: string) => routing.byName(name)!;

describe('VoiceTwiml', () => {
  const withNotice = new VoiceTwiml({ baseUrl: BASE, recordingNotice: 'Calls are recorded & kept 30 days.' });
  const noNotice = new VoiceTwiml({ baseUrl: undefined, recordingNotice: undefined });

  it('forwards with <Dial> (timeout, callerId, action with the rule, dual recording) after the recording notice', () => {
    expect(withNotice.answer(route('desk'))).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Say>Calls are recorded &amp; kept 30 days.</Say>' +
        `<Dial timeout="25" callerId="+14155550100" action="${BASE}/webhooks/twilio/voice/dial?route=desk" method="POST" ` +
        `record="record-from-answer-dual" recordingStatusCallback="${BASE}/webhooks/twilio/voice/recording" ` +
        'recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed absent">' +
        '<Number>+14155550199</Number><Number>+14155550198</Number></Dial></Response>',
    );
  });

  it('says no notice before a forward that does not record; relative URLs without a base URL', () => {
    const xml = withNotice.answer(route('plain'));
    expect(xml).not.toContain('<Say>');
    expect(xml).not.toContain('record=');
    expect(noNotice.answer(route('plain'))).toContain('action="/webhooks/twilio/voice/dial?route=plain"');
  });

  it('takes a voicemail: greeting, notice, <Record> with its callbacks and transcription, hang-up on silence', () => {
    expect(withNotice.answer(route('vm'))).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Say voice="Polly.Joanna" language="en-US">Leave a message</Say>' +
        '<Say>Calls are recorded &amp; kept 30 days.</Say>' +
        `<Record maxLength="120" finishOnKey="#" playBeep="true" action="${BASE}/webhooks/twilio/voice?after=record" method="POST" ` +
        `recordingStatusCallback="${BASE}/webhooks/twilio/voice/recording" recordingStatusCallbackMethod="POST" ` +
        `recordingStatusCallbackEvent="completed absent" transcribe="true" transcribeCallback="${BASE}/webhooks/twilio/voice/transcription"/>` +
        '<Hangup/></Response>',
    );
    const quiet = noNotice.answer(route('quiet'));
    expect(quiet).toContain('playBeep="false"');
    expect(quiet).not.toContain('transcribe');
    expect(quiet).not.toContain('<Say>');
  });

  it('rejects and answers busy', () => {
    expect(withNotice.answer({ name: 'default', rule: { action: 'reject' } })).toContain('<Reject reason="rejected"/>');
    expect(withNotice.answer({ name: 'b', rule: { action: 'busy' } })).toContain('<Reject reason="busy"/>');
  });

  it('after the dial: voicemail when nobody answered and the rule asks for it, else hang up', () => {
    const missed = withNotice.afterDial(route('desk'), false);
    expect(missed).toMatch(
      /<Play>https:\/\/example.com\/sorry.mp3<\/Play><Say>Calls are recorded &amp; kept 30 days.<\/Say><Record maxLength="30"/,
    );
    expect(withNotice.afterDial(route('desk'), true)).toContain('<Response><Hangup/></Response>');
    expect(withNotice.afterDial(route('plain'), false)).toContain('<Response><Hangup/></Response>');
    expect(withNotice.afterDial(undefined, false)).toContain('<Response><Hangup/></Response>');
  });
});
