import type { PhoneNormalizer } from '../../sms/phone';
import type { CallRequest, OutboundCall } from './call-delivery';

/** The TwiML of a routing rule by name (VOICE_ROUTING_FILE), or undefined when no rule has that name. */
export type RouteTwiml = (name: string) => string | undefined;

export interface CallValidatorOptions {
  phones: PhoneNormalizer;
  /** TWILIO_PHONE_NUMBER: the caller id of requests that name none. */
  defaultFrom?: string | undefined;
  /** Resolves `routing` names; absent when no routing file is configured. */
  routeTwiml?: RouteTwiml | undefined;
  /** TWILIO_WEBHOOK_BASE_URL: call status and recording callbacks go to this service's voice routes. */
  webhookBaseUrl?: string | undefined;
}

export type CallValidation = { ok: true; call: OutboundCall } | { ok: false; code: string; reason: string };

/** Twilio refuses a `Twiml` parameter longer than this. */
export const MAX_TWIML_CHARS = 4000;

/** Status callback events asked for when the request names none. */
export const DEFAULT_STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

const reject = (code: string, reason: string): CallValidation => ({ ok: false, code, reason });

/**
 * The validate stage of a call request: the callee is normalised to E.164
 * (emergency, premium-rate and blocked countries refused, as for texts), the
 * caller id resolved, the instructions taken from `twiml` or a routing rule
 * (exactly one), and the callbacks pointed at this service's voice webhooks
 * unless the request names its own. Pure and synchronous.
 */
export class CallValidator {
  constructor(private readonly o: CallValidatorOptions) {}

  validate(request: CallRequest): CallValidation {
    const data = request.data;
    const to = this.o.phones.normalize(data.to);
    if (!to.ok) return reject(to.code, to.reason);
    const fromInput = data.from ?? this.o.defaultFrom;
    if (fromInput === undefined) {
      return reject('NO_SENDER', 'Neither the request nor TWILIO_PHONE_NUMBER names a caller id (from).');
    }
    const from = /^\+[1-9]\d{6,14}$/.test(fromInput) ? fromInput : undefined;
    if (from === undefined) return reject('VOICE_CALLER_ID_INVALID', 'The caller id (from) must be an E.164 number.');
    if (data.twiml !== undefined && data.routing !== undefined) {
      return reject('VOICE_INSTRUCTIONS_INVALID', 'A call request names either twiml or routing, not both.');
    }
    let twiml = data.twiml;
    if (data.routing !== undefined) {
      twiml = this.o.routeTwiml?.(data.routing);
      if (twiml === undefined) return reject('VOICE_ROUTING_UNKNOWN', `No routing rule is named ${data.routing}.`);
    }
    if (twiml === undefined) return reject('VOICE_INSTRUCTIONS_INVALID', 'A call request needs twiml or routing.');
    const problem = twimlProblem(twiml);
    if (problem !== undefined) return reject('VOICE_TWIML_INVALID', problem);
    const base = this.o.webhookBaseUrl;
    const statusCallback = data.statusCallbackUrl ?? (base ? `${base}/webhooks/twilio/voice/status` : undefined);
    return {
      ok: true,
      call: {
        to: to.e164,
        from,
        twiml,
        record: data.record ?? false,
        recordingStatusCallback: data.record && base ? `${base}/webhooks/twilio/voice/recording` : undefined,
        machineDetection: data.machineDetection,
        statusCallback,
        statusCallbackEvents:
          statusCallback === undefined ? undefined : (data.statusCallbackEvents ?? DEFAULT_STATUS_EVENTS),
        timeoutSecs: data.timeoutSecs,
        timeLimitSecs: data.timeLimitSecs,
      },
    };
  }
}

/**
 * Why Twilio would not run this TwiML, or undefined. Only the envelope is
 * checked (one `<Response>` document within Twilio's length limit): the verbs
 * inside are Twilio's to judge, and it reports them on the call.
 */
export function twimlProblem(twiml: string): string | undefined {
  if (twiml.length > MAX_TWIML_CHARS) return `TwiML is longer than ${MAX_TWIML_CHARS} characters.`;
  const body = twiml.trim().replace(/^<\?xml[^>]*\?>\s*/, '');
  if (!/^<Response(\s[^>]*)?\/>$/.test(body) && !/^<Response(\s[^>]*)?>[\s\S]*<\/Response>$/.test(body)) {
    return 'TwiML must be one <Response> document.';
  }
  return undefined;
}
