import { MESSAGE_STATUSES, type MessageStatus, type TwilioParams } from '../../envelope';
import type { RawParams } from './webhook-body';

/** A payload that is not a usable Twilio webhook: answered 400 with `reason` (never echoing values). */
export type ParamsResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface InboundParams {
  params: TwilioParams;
  accountSid: string;
  messageSid: string;
  from: string;
  to: string;
  body: string;
  messagingServiceSid: string | undefined;
}

export interface StatusParams {
  params: TwilioParams;
  accountSid: string;
  messageSid: string;
  status: MessageStatus;
  errorCode: string;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const NON_NEGATIVE_INT = /^\d{1,4}$/;
const STATUSES: ReadonlySet<string> = new Set(MESSAGE_STATUSES);
/** Twilio allows at most 10 media per message; more is not a Twilio payload. */
const MAX_MEDIA = 10;

/** Twilio never repeats a parameter on Messaging webhooks; a repeat is a malformed (or forged) payload. */
function single(raw: RawParams): ParamsResult<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key in raw) {
    const v = raw[key];
    if (typeof v === 'string') out[key] = v;
    else if (Array.isArray(v)) return { ok: false, reason: `parameter ${key} is repeated` };
  }
  return { ok: true, value: out };
}

const missing = (name: string) => ({ ok: false as const, reason: `missing parameter ${name}` });
const invalid = (name: string, what: string) => ({ ok: false as const, reason: `parameter ${name} ${what}` });

function commonSids(
  p: Record<string, string>,
  sidNames: readonly string[],
): ParamsResult<{ accountSid: string; messageSid: string }> {
  const accountSid = p.AccountSid;
  if (!accountSid) return missing('AccountSid');
  if (!ACCOUNT_SID.test(accountSid)) return invalid('AccountSid', 'must be an AC SID');
  const sidName = sidNames.find((n) => p[n]);
  if (sidName === undefined) return missing('MessageSid');
  const messageSid = p[sidName]!;
  if (!MESSAGE_SID.test(messageSid)) return invalid(sidName, 'must be an SM or MM SID');
  const ms = p.MessagingServiceSid;
  if (ms && !MESSAGING_SERVICE_SID.test(ms)) return invalid('MessagingServiceSid', 'must be an MG SID');
  return { ok: true, value: { accountSid, messageSid } };
}

/** An inbound SMS/MMS webhook: the parameters sms.inbound.received needs, checked with readable reasons. */
export function readInboundParams(raw: RawParams): ParamsResult<InboundParams> {
  const s = single(raw);
  if (!s.ok) return s;
  const p = s.value;
  const sids = commonSids(p, ['MessageSid', 'SmsMessageSid', 'SmsSid']);
  if (!sids.ok) return sids;
  if (!p.From) return missing('From');
  if (!p.To) return missing('To');
  if (p.NumSegments !== undefined && !NON_NEGATIVE_INT.test(p.NumSegments)) {
    return invalid('NumSegments', 'must be a whole number');
  }
  if (p.NumMedia !== undefined) {
    if (!NON_NEGATIVE_INT.test(p.NumMedia) || Number(p.NumMedia) > MAX_MEDIA) {
      return invalid('NumMedia', `must be a whole number from 0 to ${MAX_MEDIA}`);
    }
    for (let i = 0, n = Number(p.NumMedia); i < n; i++) {
      const url = p[`MediaUrl${i}`];
      if (!url) return missing(`MediaUrl${i}`);
      if (!/^https?:\/\/\S+$/.test(url)) return invalid(`MediaUrl${i}`, 'must be an http(s) URL');
    }
  }
  return {
    ok: true,
    value: {
      params: p,
      accountSid: sids.value.accountSid,
      messageSid: sids.value.messageSid,
      from: p.From,
      to: p.To,
      body: p.Body ?? '',
      messagingServiceSid: p.MessagingServiceSid || undefined,
    },
  };
}

/** A status callback: MessageSid, a known MessageStatus and, when present, a numeric ErrorCode. */
export function readStatusParams(raw: RawParams): ParamsResult<StatusParams> {
  const s = single(raw);
  if (!s.ok) return s;
  const p = s.value;
  const sids = commonSids(p, ['MessageSid', 'SmsSid']);
  if (!sids.ok) return sids;
  const statusName = p.MessageStatus ? 'MessageStatus' : 'SmsStatus';
  const status = p[statusName];
  if (!status) return missing('MessageStatus');
  if (!STATUSES.has(status)) return invalid(statusName, 'is not a known message status');
  const errorCode = p.ErrorCode ?? '';
  if (errorCode !== '' && !/^\d{1,6}$/.test(errorCode)) return invalid('ErrorCode', 'must be a number');
  return {
    ok: true,
    value: {
      // The builder reads MessageStatus first; make it the validated one.
      params: statusName === 'MessageStatus' ? p : { ...p, MessageStatus: status },
      accountSid: sids.value.accountSid,
      messageSid: sids.value.messageSid,
      status: status as MessageStatus,
      errorCode,
    },
  };
}
