import { abortError } from '../../../common/clock';
import type { CircuitPermit } from '../../../resilience';
import { classifyTwilioError } from '../../rest/error-map';
import { recordTwilioError } from '../../rest/error-code-label';
import { failureCode } from '../classify-send-error';
import { acceptedFromTwilio, failed, rejected } from '../decisions';
import { addPending, type Delivery, type OutboundMessage, type SendFailure } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { EgressError, OUTCOME_CODES } from '../../../egress/egress-errors';
import { findSentMessage } from '../reconcile';
import { decide, retryFrom, type Stage, type StageResult } from '../stage';
import type { TwilioMessage } from '../twilio-messages-port';
import { afterReconcileFailure } from './reconcile-failure';
import { recordSent } from './record-sent';
import { untilAttemptOver, waitUntilAttemptOver } from '../attempt-over';

/**
 * One attempt to send (the intent stage already made the ledger say it may
 * happen). After Twilio accepts, `sent` goes to the ledger and the outcome
 * waits for it. After an ambiguous failure the next
 * attempt first asks Twilio whether the message exists. Retriable failures go
 * back to rate-limit after a back-off; when attempts run out while Twilio
 * looks down (circuit not closed) the record is retried later rather than
 * failed, so an outage never fills the DLQ.
 */
export function sendStage(deps: EgressDeps): Stage {
  return {
    name: 'send',
    async run(d: Delivery): Promise<StageResult> {
      const m = d.message!;
      const permit = d.permit!;
      d.permit = undefined;
      if (d.context.signal.aborted) {
        permit.release();
        throw abortError(d.context.signal);
      }
      if (d.ambiguous && m.conversationSid === undefined) {
        const r = await reconcileBeforeResend(deps, d, m, permit);
        if (r) return r;
      }
      d.attempts++;
      const started = deps.clock.now();
      d.lastAttemptAt = started;
      deps.openAttempts.started(d.ledgerKey, started);
      try {
        const sent = await callTwilio(deps, d, m);
        deps.openAttempts.answered(d.ledgerKey);
        deps.metrics?.sendLatency.observe((deps.clock.now() - started) / 1000);
        permit.success();
        if ('rejected' in sent) return decide(sent.rejected);
        recordSent(deps, d, m, sent.message);
        return decide(acceptedFromTwilio(d, sent.message, false));
      } catch (err) {
        deps.metrics?.sendLatency.observe((deps.clock.now() - started) / 1000);
        const f = deps.classify(err);
        if (f.outage) permit.failure();
        else permit.success();
        recordTwilioError(deps.metrics, f);
        d.lastFailure = f;
        if (f.ambiguous) d.ambiguous = true;
        else deps.openAttempts.answered(d.ledgerKey);
        return afterFailure(deps, d, m, f, err);
      }
    },
  };
}

type CallResult = { message: TwilioMessage } | { rejected: ReturnType<typeof rejected> };

async function callTwilio(deps: EgressDeps, d: Delivery, m: OutboundMessage): Promise<CallResult> {
  const accountSid = d.request.tenant.accountSid;
  if (m.conversationSid !== undefined) {
    if (!deps.conversationReply) {
      return { rejected: rejected(d, 'CONVERSATION_REPLY_REJECTED', 'Conversations is not enabled on this service') };
    }
    const r = await deps.conversationReply({
      conversationSid: m.conversationSid,
      body: m.body === '' ? undefined : m.body,
      mediaUrls: m.mediaUrls,
      attributes: JSON.stringify({ egressRequestId: d.request.id }),
    });
    if (!r.ok) {
      // Twilio's answer to the reply (e.g. 20003) counts like a Messages API error; a local refusal has no code.
      if (r.twilioErrorCode !== undefined) {
        recordTwilioError(deps.metrics, {
          type: classifyTwilioError({ code: r.twilioErrorCode }).type,
          twilioErrorCode: r.twilioErrorCode,
        });
      }
      return { rejected: rejected(d, 'CONVERSATION_REPLY_REJECTED', r.reason, r.twilioErrorCode) };
    }
    const now = new Date(deps.clock.now());
    return {
      message: {
        sid: r.messageSid,
        accountSid,
        to: m.conversationSid,
        from: null,
        body: m.body,
        status: 'accepted',
        direction: 'outbound-api',
        numSegments: m.segments,
        numMedia: m.mediaUrls.length,
        messagingServiceSid: null,
        errorCode: null,
        dateCreated: now,
        dateSent: null,
      },
    };
  }
  return {
    message: await deps.twilio.create({
      accountSid,
      to: m.to,
      from: m.messagingServiceSid === undefined ? m.from : undefined,
      messagingServiceSid: m.messagingServiceSid,
      body: m.body === '' ? undefined : m.body,
      mediaUrls: m.mediaUrls,
      statusCallback: m.statusCallback,
      sendAt: m.sendAt,
      validityPeriodSecs: m.validityPeriodSecs,
      smartEncoded: m.smartEncoded,
    }),
  };
}

/**
 * Reconciles after an ambiguous attempt; a result ends the stage, undefined means "not sent: send" (with
 * `permit`, the create's, when the caller holds one). The list goes under a read permit of its own: it never
 * closes the circuit nor takes the half-open probe slot; when no create follows, `permit` is released unused.
 */
async function reconcileBeforeResend(
  deps: EgressDeps,
  d: Delivery,
  m: OutboundMessage,
  permit?: CircuitPermit,
): Promise<StageResult | undefined> {
  const read = await deps.circuits.for(d.request.tenant.accountSid).acquireRead(d.context.signal);
  try {
    const found = await findSentMessage(deps.twilio, deps.ledger, {
      accountSid: d.request.tenant.accountSid,
      ledgerKey: d.ledgerKey,
      message: m,
      attemptAt: d.attemptAt ?? deps.clock.now(),
    });
    read.success();
    d.ambiguous = false;
    if (!found) return undefined;
    permit?.release();
    recordSent(deps, d, m, found);
    return decide(acceptedFromTwilio(d, found, true));
  } catch (err) {
    permit?.release();
    return afterReconcileFailure(deps, d, read, err, 'send', 'rate-limit');
  }
}

async function afterFailure(
  deps: EgressDeps,
  d: Delivery,
  m: OutboundMessage,
  f: SendFailure,
  cause: unknown,
): Promise<StageResult> {
  if (f.consent) {
    publishOptOut(deps, d, m);
    return decide(rejected(d, 'OPTED_OUT', OUTCOME_CODES.OPTED_OUT, f.twilioErrorCode ?? 21610));
  }
  if (f.configuration) return decide(failed(d, 'send', failureCode(f), f.message, f));
  if (!f.retriable) return decide(rejected(d, 'TWILIO_REJECTED', f.message, f.twilioErrorCode));
  if (deps.retry.shouldRetry(f, d.attempts)) {
    // After an ambiguous failure the next attempt reconciles first: not before this attempt must be over.
    const backOff = deps.retry.delayMs(d.attempts, f);
    const reconciles = d.ambiguous && m.conversationSid === undefined;
    return retryFrom('rate-limit', reconciles ? Math.max(backOff, untilAttemptOver(deps, d)) : backOff);
  }
  const breaker = deps.circuits.for(d.request.tenant.accountSid);
  if (breaker.state !== 'closed') {
    // The record is retried from the start, whose ledger stage reconciles at once (the intent is this
    // process's own): wait here until the last attempt must be over.
    if (d.ambiguous && m.conversationSid === undefined) await waitUntilAttemptOver(deps, d);
    throw new EgressError('IE_EGRESS_TWILIO_UNAVAILABLE', `Twilio unavailable after ${d.attempts} attempts`, {
      cause,
      retryAfterMs: f.retryAfterMs,
    });
  }
  if (d.ambiguous && m.conversationSid === undefined) {
    // The last attempt may have created the message: never fail (and later replay) one that went out.
    await waitUntilAttemptOver(deps, d);
    const r = await reconcileBeforeResend(deps, d, m);
    if (r) return r;
  }
  return decide(failed(d, 'send', 'TWILIO_FAILED', f.message, f));
}

function publishOptOut(deps: EgressDeps, d: Delivery, m: OutboundMessage): void {
  const scope =
    m.messagingServiceSid !== undefined
      ? { kind: 'messaging_service' as const, messagingServiceSid: m.messagingServiceSid }
      : m.from !== undefined
        ? { kind: 'sender' as const, sender: m.from }
        : undefined;
  if (!scope) return;
  const event = deps.builder.consentChanged({
    accountSid: d.request.tenant.accountSid,
    action: 'opt_out',
    phoneNumber: m.to,
    scope,
    via: 'error_21610',
    causationId: d.request.id,
    correlationId: d.request.correlationId ?? d.request.id,
  });
  deps.metrics?.optOutEvents.inc({ action: 'opt_out', via: 'error_21610' });
  addPending(d, deps.publisher.publish(event));
}
