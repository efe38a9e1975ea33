import { twiml } from 'twilio';
import type { ResolvedRoute, VoicemailSettings } from './voice-routing';

type SayAttributes = Exclude<Parameters<twiml.VoiceResponse['say']>[0], string>;

export const VOICE_WEBHOOK_PATH = '/webhooks/twilio/voice';
export const VOICE_STATUS_PATH = '/webhooks/twilio/voice/status';
export const VOICE_RECORDING_PATH = '/webhooks/twilio/voice/recording';
export const VOICE_TRANSCRIPTION_PATH = '/webhooks/twilio/voice/transcription';
export const VOICE_DIAL_PATH = '/webhooks/twilio/voice/dial';

/** The query of the incoming-call route that `<Record action>` calls once a voicemail is recorded. */
export const AFTER_RECORD_QUERY = 'after=record';

export interface VoiceTwimlOptions {
  /** TWILIO_WEBHOOK_BASE_URL (what Twilio calls); undefined: callback URLs are relative to the request. */
  baseUrl: string | undefined;
  /** VOICE_RECORDING_NOTICE: said before any recording starts. */
  recordingNotice: string | undefined;
}

/**
 * The TwiML the service answers, built with the twilio SDK's VoiceResponse
 * (escaping and attribute names are the SDK's). Every recording is preceded
 * by the recording notice when one is configured.
 */
export class VoiceTwiml {
  constructor(private readonly options: VoiceTwimlOptions) {}

  /** The answer to an incoming call. */
  answer(route: ResolvedRoute): string {
    const response = new twiml.VoiceResponse();
    const { rule } = route;
    switch (rule.action) {
      case 'forward': {
        if (rule.record) this.notice(response);
        const dial = response.dial({
          timeout: rule.timeoutSecs,
          ...(rule.callerId ? { callerId: rule.callerId } : {}),
          action: this.url(VOICE_DIAL_PATH, `route=${encodeURIComponent(route.name)}`),
          method: 'POST',
          ...(rule.record
            ? {
                record: 'record-from-answer-dual' as const,
                recordingStatusCallback: this.url(VOICE_RECORDING_PATH),
                recordingStatusCallbackMethod: 'POST',
                recordingStatusCallbackEvent: ['completed', 'absent'],
              }
            : {}),
        });
        for (const to of Array.isArray(rule.to) ? rule.to : [rule.to]) dial.number(to);
        break;
      }
      case 'voicemail':
        this.voicemail(response, rule);
        break;
      case 'reject':
        response.reject({ reason: 'rejected' });
        break;
      case 'busy':
        response.reject({ reason: 'busy' });
        break;
    }
    return response.toString();
  }

  /** The answer to the `<Dial action>` request: voicemail when nobody answered and the rule asks for it, else hang up. */
  afterDial(route: ResolvedRoute | undefined, answered: boolean): string {
    const response = new twiml.VoiceResponse();
    if (!answered && route?.rule.action === 'forward' && route.rule.voicemailWhenUnanswered) {
      this.voicemail(response, route.rule.voicemailWhenUnanswered);
    } else {
      response.hangup();
    }
    return response.toString();
  }

  /** The answer once `<Record>` finished: the call is over. */
  hangup(): string {
    const response = new twiml.VoiceResponse();
    response.hangup();
    return response.toString();
  }

  private voicemail(response: twiml.VoiceResponse, v: VoicemailSettings): void {
    if (v.greeting && 'say' in v.greeting) {
      // The routing file accepts any voice and language name: Twilio adds voices faster than the SDK's types.
      const attributes = {
        ...(v.greeting.voice ? { voice: v.greeting.voice } : {}),
        ...(v.greeting.language ? { language: v.greeting.language } : {}),
      } as SayAttributes;
      response.say(attributes, v.greeting.say);
    } else if (v.greeting && 'play' in v.greeting) {
      response.play(v.greeting.play);
    }
    this.notice(response);
    response.record({
      maxLength: v.maxLengthSecs,
      finishOnKey: v.finishOnKey,
      playBeep: v.playBeep,
      // Without an action Twilio would request the incoming-call URL again and loop.
      action: this.url(VOICE_WEBHOOK_PATH, AFTER_RECORD_QUERY),
      method: 'POST',
      recordingStatusCallback: this.url(VOICE_RECORDING_PATH),
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: ['completed', 'absent'],
      ...(v.transcribe ? { transcribe: true, transcribeCallback: this.url(VOICE_TRANSCRIPTION_PATH) } : {}),
    });
    // Reached when the caller said nothing: end the call rather than fall off the document.
    response.hangup();
  }

  private notice(response: twiml.VoiceResponse): void {
    if (this.options.recordingNotice) response.say(this.options.recordingNotice);
  }

  private url(path: string, query?: string): string {
    const base = this.options.baseUrl ?? '';
    return `${base}${path}${query ? `?${query}` : ''}`;
  }
}
