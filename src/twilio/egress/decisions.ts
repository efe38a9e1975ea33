import { MESSAGE_STATUSES } from '../../envelope';
import { redactPhonesInText } from '../../observability';
import type { Decision, Delivery, SendFailure } from './delivery';
import type { LedgerEntry } from './send-ledger';
import type { TwilioMessage } from './twilio-messages-port';

/** Builders of each decision, so every stage fills outcome data the same way. */

export function accepted(
  d: Delivery,
  m: { messageSid: string; status: string; numSegments?: number | undefined; encoding?: 'GSM-7' | 'UCS-2' | undefined },
  deduplicated: boolean,
): Decision {
  return {
    type: 'sms.outbound.accepted',
    data: {
      requestId: d.request.id,
      messageSid: m.messageSid,
      to: d.message?.to ?? d.recipient,
      status: messageStatus(m.status),
      numSegments: m.numSegments ?? d.message?.segments ?? 1,
      encoding: m.encoding ?? d.message?.encoding ?? 'GSM-7',
      attempts: Math.max(1, d.attempts),
      deduplicated,
    },
  };
}

export function acceptedFromLedger(d: Delivery, e: LedgerEntry & { messageSid: string }): Decision {
  return accepted(
    { ...d, attempts: Math.max(d.attempts, e.attempts ?? 1) },
    { messageSid: e.messageSid, status: e.status ?? 'queued', numSegments: e.numSegments, encoding: e.encoding },
    true,
  );
}

export function acceptedFromTwilio(d: Delivery, m: TwilioMessage, deduplicated: boolean): Decision {
  return accepted(
    d,
    { messageSid: m.sid, status: m.status, numSegments: m.numSegments > 0 ? m.numSegments : undefined },
    deduplicated,
  );
}

export function rejected(d: Delivery, code: string, reason: string, twilioErrorCode?: number): Decision {
  return {
    type: 'sms.outbound.rejected',
    data: {
      requestId: d.request.id,
      to: d.message?.to ?? d.recipient,
      code,
      reason: safeReason(reason),
      ...(twilioErrorCode !== undefined ? { twilioErrorCode } : {}),
    },
  };
}

export function failed(
  d: Delivery,
  stage: string,
  code: string,
  reason: string,
  f?: Pick<SendFailure, 'twilioErrorCode' | 'retriable'>,
): Decision {
  return {
    type: 'sms.outbound.failed',
    stage,
    data: {
      requestId: d.request.id,
      to: d.message?.to ?? d.recipient,
      code,
      reason: safeReason(reason),
      ...(f?.twilioErrorCode !== undefined ? { twilioErrorCode: f.twilioErrorCode } : {}),
      attempts: d.attempts,
      retriable: f?.retriable ?? false,
    },
  };
}

// Twilio's messages quote the number they refuse; outcomes and the DLQ never carry one.
export function safeReason(reason: string): string {
  const r = redactPhonesInText(reason).trim();
  return (r === '' ? 'no reason given' : r).slice(0, 500);
}

// The envelope's list of statuses is the one source of truth.
const STATUSES: ReadonlySet<string> = new Set(MESSAGE_STATUSES);

type Status = Extract<Decision, { type: 'sms.outbound.accepted' }>['data']['status'];

/** Twilio may add statuses; an unknown one is reported as `queued` (it was accepted). */
export function messageStatus(s: string): Status {
  return (STATUSES.has(s) ? s : 'queued') as Status;
}
