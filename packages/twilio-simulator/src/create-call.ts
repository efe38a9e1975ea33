import type { CallDirection, SimCall } from './call';
import type { NumberDirectory } from './number-directory';
import type { SeededRng } from './rng';
import { customTwilioError, twilioError, type TwilioErrorBody } from './twilio-errors';

/**
 * `POST …/Calls.json`: Twilio's checks, in Twilio's order, and the new call
 * (queued). What the call then does is the call player's job.
 */
export const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;
export const MAX_TWIML_CHARS = 4000;

export interface CreateCallDeps {
  accountSid: string;
  now: number;
  seq: number;
  rng: SeededRng;
  numbers: NumberDirectory;
}

/** What the create asked for beyond the call itself. */
export interface CallPlan {
  url: string | null;
  twiml: string | null;
  record: boolean;
  recordingStatusCallback: string | null;
  recordingStatusCallbackEvents: string[];
  machineDetection: string | null;
  timeoutSecs: number;
}

export type CreateCallResult = { ok: true; call: SimCall; plan: CallPlan } | { ok: false; error: TwilioErrorBody };

const E164 = /^\+[1-9]\d{1,14}$/;
const fail = (error: TwilioErrorBody): CreateCallResult => ({ ok: false, error });

function isHttpUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function createCall(form: URLSearchParams, deps: CreateCallDeps): CreateCallResult {
  const to = form.get('To') ?? '';
  const from = form.get('From') ?? '';
  if (to === '') return fail(customTwilioError(21201, 400, "No 'To' number is specified"));
  if (!E164.test(to)) return fail(twilioError(21211));
  if (from === '') return fail(customTwilioError(21213, 400, "No 'From' number is specified"));
  if (!E164.test(from)) return fail(twilioError(21212));
  if (!deps.numbers.canSendFrom(deps.accountSid, from)) {
    return fail(customTwilioError(21210, 400, "'From' phone number not verified"));
  }
  const url = form.get('Url');
  const twiml = form.get('Twiml');
  if ((url === null || url === '') && (twiml === null || twiml === '')) {
    return fail(customTwilioError(21205, 400, 'Url or Twiml is required'));
  }
  if (url !== null && url !== '' && !isHttpUrl(url)) return fail(customTwilioError(21205, 400, 'Invalid Url'));
  if (twiml !== null && twiml.length > MAX_TWIML_CHARS) {
    return fail(twilioError(20001, `Twiml must be at most ${MAX_TWIML_CHARS} characters`));
  }
  const statusCallback = form.get('StatusCallback');
  if (statusCallback !== null && statusCallback !== '' && !isHttpUrl(statusCallback)) {
    return fail(customTwilioError(21609, 400, 'Invalid StatusCallback'));
  }
  const events = form.getAll('StatusCallbackEvent').flatMap((e) => e.split(/[ ,]+/).filter(Boolean));
  for (const e of events) {
    if (!(CALL_EVENTS as readonly string[]).includes(e))
      return fail(twilioError(20001, `Invalid StatusCallbackEvent: ${e}`));
  }
  const machineDetection = form.get('MachineDetection');
  if (machineDetection !== null && machineDetection !== 'Enable' && machineDetection !== 'DetectMessageEnd') {
    return fail(twilioError(20001, `Invalid MachineDetection: ${machineDetection}`));
  }
  const rawTimeout = form.get('Timeout');
  const timeoutSecs = rawTimeout === null ? 60 : Number(rawTimeout);
  if (!Number.isInteger(timeoutSecs) || timeoutSecs < 1 || timeoutSecs > 600) {
    return fail(twilioError(20001, `Invalid Timeout: ${rawTimeout}`));
  }
  const record = (form.get('Record') ?? 'false').toLowerCase() === 'true';
  const direction: CallDirection = 'outbound-api';
  const call: SimCall = {
    sid: deps.rng.sid('CA'),
    accountSid: deps.accountSid,
    direction,
    from,
    to,
    parentCallSid: null,
    status: 'queued',
    dateCreated: deps.now,
    dateUpdated: deps.now,
    startTime: null,
    endTime: null,
    answeredBy: null,
    forwardedFrom: null,
    statusCallback: statusCallback === null || statusCallback === '' ? null : statusCallback,
    statusCallbackEvents: new Set(events.length > 0 ? events : ['completed']),
    sequence: 0,
    seq: deps.seq,
    history: [{ status: 'queued', at: deps.now }],
    verbs: [],
  };
  return {
    ok: true,
    call,
    plan: {
      url: url === null || url === '' ? null : url,
      twiml: twiml === null || twiml === '' ? null : twiml,
      record,
      recordingStatusCallback: form.get('RecordingStatusCallback'),
      recordingStatusCallbackEvents: form.getAll('RecordingStatusCallbackEvent'),
      machineDetection,
      timeoutSecs,
    },
  };
}
