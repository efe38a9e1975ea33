import type { MessageStatus, SimMessage } from './message';
import type { NumberDirectory } from './number-directory';
import type { OptOutList } from './opt-out';
import type { SeededRng } from './rng';
import { countSegments } from './segments';
import { twilioError, type TwilioErrorBody, type TwilioRestErrorCode } from './twilio-errors';

/**
 * `POST …/Messages.json`: Twilio's checks in Twilio's order (To, sender, body,
 * media, opt-out, schedule) and the new message record. Pure apart from the
 * SID draw, so it is unit-tested without HTTP.
 */
export const E164 = /^\+[1-9]\d{6,14}$/;
const CHANNEL_ADDRESS = /^(whatsapp|messenger|rcs):\S+$/;
const SHORT_CODE = /^\d{3,8}$/;
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

/** Twilio's test numbers and the errors they produce. */
const MAGIC_TO: Readonly<Record<string, TwilioRestErrorCode>> = {
  '+15005550001': 21211,
  '+15005550002': 21612,
  '+15005550003': 21408,
  '+15005550004': 21610,
  '+15005550009': 21614,
};
const MAGIC_FROM: Readonly<Record<string, TwilioRestErrorCode>> = {
  '+15005550001': 21212,
  '+15005550007': 21606,
  '+15005550008': 21611,
};

export const MAX_BODY_CHARS = 1600;
export const MAX_MEDIA = 10;
const SCHEDULE_MIN_MS = 15 * 60 * 1000;
const SCHEDULE_MAX_MS = 35 * 24 * 60 * 60 * 1000;

export interface CreateDeps {
  accountSid: string;
  now: number;
  seq: number;
  rng: SeededRng;
  numbers: NumberDirectory;
  optOuts: OptOutList;
  magicNumbers: boolean;
}

export type CreateResult = { ok: true; message: SimMessage } | { ok: false; error: TwilioErrorBody };

const fail = (code: TwilioRestErrorCode, message?: string): CreateResult => ({
  ok: false,
  error: twilioError(code, message),
});

function bool(v: string | null): boolean {
  return v !== null && v.toLowerCase() === 'true';
}

export function createMessage(form: URLSearchParams, deps: CreateDeps): CreateResult {
  const to = form.get('To');
  if (to === null || to === '') return fail(21604);
  if (deps.magicNumbers && MAGIC_TO[to] !== undefined) {
    const code = MAGIC_TO[to];
    return fail(code, code === 21211 ? `The 'To' number ${to} is not a valid phone number.` : undefined);
  }
  if (!E164.test(to) && !CHANNEL_ADDRESS.test(to))
    return fail(21211, `The 'To' number ${to} is not a valid phone number.`);

  const from = emptyToNull(form.get('From'));
  const serviceSid = emptyToNull(form.get('MessagingServiceSid'));
  if (from === null && serviceSid === null) return fail(21603);
  if (serviceSid !== null && (!SERVICE_SID.test(serviceSid) || !deps.numbers.hasService(deps.accountSid, serviceSid))) {
    return fail(21701, `The Messaging Service Sid ${serviceSid} is invalid.`);
  }
  if (from !== null) {
    if (deps.magicNumbers && MAGIC_FROM[from] !== undefined) return fail(MAGIC_FROM[from]);
    const wellFormed =
      E164.test(from) || SHORT_CODE.test(from) || ALPHANUMERIC_SENDER.test(from) || CHANNEL_ADDRESS.test(from);
    if (!wellFormed)
      return fail(
        21212,
        `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
      );
    if (!deps.numbers.canSendFrom(deps.accountSid, from)) {
      return fail(
        21606,
        `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    }
  }

  const body = form.get('Body') ?? '';
  const mediaUrls = form.getAll('MediaUrl').filter((u) => u !== '');
  if (body === '' && mediaUrls.length === 0 && !form.get('ContentSid')) return fail(21602);
  if (countChars(body) > MAX_BODY_CHARS) return fail(21617);
  if (mediaUrls.length > MAX_MEDIA) return fail(21623);
  if (mediaUrls.some((u) => !/^https?:\/\/\S+$/i.test(u))) return fail(21620);

  // A STOP to a number that belongs to a service opts out of the whole service.
  const senderService = from === null ? null : (deps.numbers.serviceOf(from) ?? null);
  if (deps.optOuts.isOptedOut(deps.accountSid, to, [from, serviceSid, senderService])) return fail(21610);

  let sendAt: number | null = null;
  // Twilio drops scheduling parameters silently when no messaging service is given.
  if (form.get('ScheduleType') === 'fixed' && serviceSid !== null) {
    const raw = form.get('SendAt');
    const parsed = raw ? Date.parse(raw) : NaN;
    if (!Number.isFinite(parsed) || parsed - deps.now < SCHEDULE_MIN_MS || parsed - deps.now > SCHEDULE_MAX_MS) {
      return fail(35114);
    }
    sendAt = parsed;
  }

  let validityPeriodSec: number | null = null;
  const validity = form.get('ValidityPeriod');
  if (validity !== null && validity !== '') {
    const v = Number(validity);
    if (!Number.isInteger(v) || v < 1 || v > 36000) {
      return fail(20001, 'ValidityPeriod must be an integer between 1 and 36000 seconds.');
    }
    validityPeriodSec = v;
  }

  const status: MessageStatus = sendAt !== null ? 'scheduled' : serviceSid !== null ? 'accepted' : 'queued';
  const segments = countSegments(body, bool(form.get('SmartEncoded')));
  const message: SimMessage = {
    sid: deps.rng.sid(mediaUrls.length > 0 ? 'MM' : 'SM'),
    accountSid: deps.accountSid,
    direction: 'outbound-api',
    from,
    to,
    body,
    messagingServiceSid: serviceSid,
    mediaUrls,
    // Twilio reports 0 segments until a messaging service has picked the sender.
    numSegments: status === 'queued' ? segments : 0,
    segments,
    status,
    dateCreated: deps.now,
    dateUpdated: deps.now,
    dateSent: null,
    errorCode: null,
    errorMessage: null,
    price: null,
    priceUnit: 'USD',
    statusCallback: emptyToNull(form.get('StatusCallback')),
    sendAt,
    validityPeriodSec,
    seq: deps.seq,
    history: [{ status, at: deps.now }],
  };
  return { ok: true, message };
}

function emptyToNull(v: string | null): string | null {
  return v === null || v === '' ? null : v;
}

/** Characters as Twilio counts them for the 1,600 limit (code points, so an emoji is one). */
function countChars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n += 1;
  }
  return n;
}
