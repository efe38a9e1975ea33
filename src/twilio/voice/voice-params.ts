import { CALL_STATUSES, DIAL_CALL_STATUSES, RECORDING_STATUSES, type TwilioParams } from '../../envelope';
import type { RawParams } from '../webhooks/webhook-body';

/** A payload that is not a usable voice webhook: answered 400 with `reason` (never echoing values). */
export type VoiceParamsResult = { ok: true; params: TwilioParams } | { ok: false; reason: string };

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const RECORDING_SID = /^RE[0-9a-fA-F]{32}$/;
const TRANSCRIPTION_SID = /^TR[0-9a-fA-F]{32}$/;
const COUNT = /^\d{1,9}$/;

type Rule = { name: string; test: (v: string | undefined) => boolean; what: string };

const required = (name: string, pattern: RegExp, what: string): Rule => ({
  name,
  test: (v) => v !== undefined && pattern.test(v),
  what,
});
const oneOf = (name: string, values: readonly string[]): Rule => ({
  name,
  test: (v) => v !== undefined && values.includes(v),
  what: `one of ${values.join(', ')}`,
});
const optionalCount = (name: string): Rule => ({
  name,
  test: (v) => v === undefined || v === '' || COUNT.test(v),
  what: 'a whole number',
});

const CALL: Rule[] = [required('AccountSid', ACCOUNT_SID, 'an AC SID'), required('CallSid', CALL_SID, 'a CA SID')];

/** What each voice route needs from Twilio's parameters. */
export const VOICE_PARAM_RULES = {
  call: CALL,
  status: [...CALL, oneOf('CallStatus', CALL_STATUSES), optionalCount('SequenceNumber'), optionalCount('CallDuration')],
  dial: [...CALL, oneOf('DialCallStatus', DIAL_CALL_STATUSES), optionalCount('DialCallDuration')],
  recording: [
    ...CALL,
    required('RecordingSid', RECORDING_SID, 'an RE SID'),
    oneOf('RecordingStatus', RECORDING_STATUSES),
    optionalCount('RecordingDuration'),
    optionalCount('RecordingChannels'),
  ],
  transcription: [...CALL, required('TranscriptionSid', TRANSCRIPTION_SID, 'a TR SID')],
} as const satisfies Record<string, Rule[]>;

/**
 * Single-valued parameters that pass the route's rules. Twilio never repeats
 * a parameter on voice webhooks; a repeat is a malformed (or forged) payload.
 */
export function readVoiceParams(raw: RawParams, rules: readonly Rule[]): VoiceParamsResult {
  const params: Record<string, string> = {};
  for (const key in raw) {
    const v = raw[key];
    if (typeof v === 'string') params[key] = v;
    else if (Array.isArray(v)) return { ok: false, reason: `parameter ${key} is repeated` };
  }
  for (const rule of rules) {
    if (!rule.test(params[rule.name])) {
      return {
        ok: false,
        reason: params[rule.name] === undefined ? `missing ${rule.name}` : `${rule.name} must be ${rule.what}`,
      };
    }
  }
  return { ok: true, params };
}
