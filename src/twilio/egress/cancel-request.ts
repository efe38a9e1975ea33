import type { DataOf, EventOf, InternalEventV2 } from '../../envelope';
import { sleep } from '../../resilience';
import type { EgressContext } from '../../connector/connector';
import { errorCodeLabel, recordTwilioError } from '../rest/error-code-label';
import { failureCode } from './classify-send-error';
import { messageStatus, safeReason } from './decisions';
import type { EgressDeps } from './egress-deps';
import { EgressError, OUTCOME_CODES } from '../../egress/egress-errors';

export type CancelRequest = EventOf<'sms.outbound.cancel_requested'>;

/**
 * `sms.outbound.cancel_requested` → `Status=canceled` on each scheduled
 * message it names (a MessageSid, or every message the ledger holds for a
 * request id) → one `sms.outbound.canceled` per message, or a rejection when
 * Twilio refuses (the message already went) or nothing is known to cancel.
 * Calls go through the account's circuit breaker and the retry policy like
 * sends do; they take no rate-limit token (they text nobody).
 */
export async function handleCancel(deps: EgressDeps, event: CancelRequest, ctx: EgressContext): Promise<void> {
  const requestId = event.data.requestId ?? event.id;
  const sids =
    event.data.messageSid !== undefined
      ? [event.data.messageSid]
      : event.data.requestId !== undefined
        ? deps.ledger
            .byRequest(event.data.requestId)
            .flatMap((e) => (e.state === 'sent' && e.messageSid !== undefined ? [e.messageSid] : []))
        : [];
  if (sids.length === 0) {
    await publish(deps, event, 'sms.outbound.rejected', {
      requestId,
      code: 'UNKNOWN_REQUEST',
      reason: OUTCOME_CODES.UNKNOWN_REQUEST,
    });
    return;
  }
  for (const sid of sids) await cancelOne(deps, event, ctx, requestId, sid);
}

async function cancelOne(
  deps: EgressDeps,
  event: CancelRequest,
  ctx: EgressContext,
  requestId: string,
  sid: string,
): Promise<void> {
  const accountSid = event.tenant.accountSid;
  const breaker = deps.circuits.for(accountSid);
  for (let attempt = 1; ; attempt++) {
    const permit = await breaker.acquire(ctx.signal);
    try {
      const m = await deps.twilio.cancel(accountSid, sid);
      permit.success();
      await publish(
        deps,
        event,
        'sms.outbound.canceled',
        { requestId, messageSid: sid, status: messageStatus(m.status) },
        sid,
      );
      return;
    } catch (err) {
      const f = deps.classify(err);
      if (f.outage) permit.failure();
      else permit.success();
      recordTwilioError(deps.metrics, f);
      if (!f.retriable || f.configuration) {
        // A redelivered cancel finds the message already canceled: answer as the first time did.
        if (!f.configuration && (await alreadyCanceled(deps, accountSid, sid))) {
          await publish(deps, event, 'sms.outbound.canceled', { requestId, messageSid: sid, status: 'canceled' }, sid);
          return;
        }
        await publish(
          deps,
          event,
          'sms.outbound.rejected',
          {
            requestId,
            code: f.configuration ? failureCode(f) : 'TWILIO_REJECTED',
            reason: safeReason(f.message),
            ...(f.twilioErrorCode !== undefined ? { twilioErrorCode: f.twilioErrorCode } : {}),
          },
          sid,
        );
        return;
      }
      if (!deps.retry.shouldRetry(f, attempt)) {
        throw new EgressError('IE_EGRESS_TWILIO_UNAVAILABLE', `cancel failed after ${attempt} attempts`, {
          cause: err,
          retryAfterMs: f.retryAfterMs,
        });
      }
      await sleep(deps.clock, deps.retry.delayMs(attempt, f), ctx.signal);
    }
  }
}

async function alreadyCanceled(deps: EgressDeps, accountSid: string, sid: string): Promise<boolean> {
  try {
    return (await deps.twilio.fetch(accountSid, sid)).status === 'canceled';
  } catch {
    return false;
  }
}

async function publish<T extends 'sms.outbound.canceled' | 'sms.outbound.rejected'>(
  deps: EgressDeps,
  event: InternalEventV2,
  type: T,
  data: DataOf<T>,
  discriminator = '',
): Promise<void> {
  await deps.publisher.publish(deps.builder.outcome(event, type, data, discriminator));
  deps.metrics?.messagesSent.inc({
    status: type === 'sms.outbound.canceled' ? 'canceled' : 'rejected',
    error_code: errorCodeLabel('twilioErrorCode' in data ? data.twilioErrorCode : undefined),
  });
}
