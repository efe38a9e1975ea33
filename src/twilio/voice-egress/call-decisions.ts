import { CALL_STATUSES, type CallStatus } from '../../envelope';
import { safeReason } from '../egress/decisions';
import type { SendFailure } from '../egress/delivery';
import type { CallDecision, CallDelivery } from './call-delivery';

/** Builders of each decision, so every stage fills outcome data the same way. */

export function callAccepted(
  d: CallDelivery,
  c: { callSid: string; status: string; attempts?: number | undefined },
  deduplicated: boolean,
): CallDecision {
  return {
    type: 'voice.call.accepted',
    data: {
      requestId: d.request.id,
      callSid: c.callSid,
      to: d.call?.to ?? d.request.data.to,
      status: callStatus(c.status),
      attempts: Math.max(1, d.attempts, c.attempts ?? 0),
      deduplicated,
    },
  };
}

export function callRejected(d: CallDelivery, code: string, reason: string, twilioErrorCode?: number): CallDecision {
  return {
    type: 'voice.call.rejected',
    data: {
      requestId: d.request.id,
      to: d.call?.to ?? d.request.data.to,
      code,
      reason: safeReason(reason),
      ...(twilioErrorCode !== undefined ? { twilioErrorCode } : {}),
    },
  };
}

export function callFailed(
  d: CallDelivery,
  stage: string,
  code: string,
  reason: string,
  f?: Pick<SendFailure, 'twilioErrorCode' | 'retriable'>,
): CallDecision {
  return {
    type: 'voice.call.failed',
    stage,
    data: {
      requestId: d.request.id,
      to: d.call?.to ?? d.request.data.to,
      code,
      reason: safeReason(reason),
      ...(f?.twilioErrorCode !== undefined ? { twilioErrorCode: f.twilioErrorCode } : {}),
      attempts: d.attempts,
      retriable: f?.retriable ?? false,
    },
  };
}

const STATUSES: ReadonlySet<string> = new Set(CALL_STATUSES);

/** Twilio may add statuses; an unknown one is reported as `queued` (the call was accepted). */
export function callStatus(s: string): CallStatus {
  return (STATUSES.has(s) ? s : 'queued') as CallStatus;
}
