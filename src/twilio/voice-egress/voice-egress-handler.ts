import type { AssignmentInfo, EgressContext } from '../../connector';
import type { DataOf, InternalEventV2 } from '../../envelope';
import type { EgressExtension } from '../egress/twilio-egress-handler';
import { OUTCOME_CODES } from '../../egress/egress-errors';
import { failureCode } from '../egress/classify-send-error';
import { safeReason } from '../egress/decisions';
import { ledgerKey } from '../egress/send-ledger';
import type { CallDecision, CallEndRequest, CallRequest } from './call-delivery';
import { CallPipeline } from './call-pipeline';
import { endCall } from './end-call';
import { callCircuitStage } from './stages/call-circuit-stage';
import { callIntentStage } from './stages/call-intent-stage';
import { callLedgerStage } from './stages/call-ledger-stage';
import { callOutcomeStage } from './stages/call-outcome-stage';
import { callRateLimitStage } from './stages/call-rate-limit-stage';
import { callValidateStage } from './stages/call-validate-stage';
import { doNotCallStage } from './stages/do-not-call-stage';
import { placeCallStage } from './stages/place-call-stage';
import type { VoiceEgressDeps } from './voice-egress-deps';

/**
 * Voice requests on the egress topic (source `twilio`, handed over by the
 * Twilio egress handler): `voice.call.requested` runs ledger → validate →
 * do-not-call → intent → rate-limit (calls per second) → circuit-breaker →
 * place → outcome; `voice.call.end_requested` hangs up the call it names.
 * Each resolves once its one outcome is on Kafka and throws only retriable
 * infrastructure errors.
 */
export class VoiceEgressHandler implements EgressExtension {
  readonly types = ['voice.call.requested', 'voice.call.end_requested'] as const;
  readonly pipeline: CallPipeline;

  constructor(readonly deps: VoiceEgressDeps) {
    this.pipeline = new CallPipeline({
      stages: [
        callLedgerStage(deps),
        callValidateStage(deps),
        doNotCallStage(deps),
        callIntentStage(deps),
        callRateLimitStage(deps),
        callCircuitStage(deps),
        placeCallStage(deps),
      ],
      outcome: callOutcomeStage(deps),
      clock: deps.clock,
      logger: deps.logger,
    });
  }

  async handle(event: InternalEventV2, context: EgressContext): Promise<void> {
    if (event.type === 'voice.call.requested') await this.handleCall(event, context);
    else if (event.type === 'voice.call.end_requested') await this.handleEnd(event, context);
  }

  async handleCall(request: CallRequest, context: EgressContext): Promise<CallDecision> {
    return this.pipeline.run({
      request,
      ledgerKey: ledgerKey(request.id, request.data.to),
      context,
      intentWritten: false,
      attempts: 0,
      ambiguous: false,
      pending: [],
    });
  }

  /**
   * Ends the call a request names (its CallSid, or the call the ledger holds
   * for a request id): `voice.call.accepted` with the call's final status, or
   * `voice.call.rejected` when nothing is known to end or Twilio refuses.
   */
  async handleEnd(event: CallEndRequest, context: EgressContext): Promise<void> {
    const requestId = event.data.requestId ?? event.id;
    const callSid =
      event.data.callSid ??
      (event.data.requestId !== undefined
        ? this.deps.ledger
            .byRequest(event.data.requestId)
            .find((e) => e.state === 'sent' && e.messageSid?.startsWith('CA') === true)?.messageSid
        : undefined);
    if (callSid === undefined) {
      await this.publishEnd(event, 'voice.call.rejected', {
        requestId,
        code: 'UNKNOWN_CALL',
        reason: OUTCOME_CODES.UNKNOWN_CALL,
      });
      return;
    }
    const r = await endCall(this.deps, event.tenant.accountSid, callSid, context.signal);
    if (r.kind === 'rejected') {
      const f = r.failure;
      await this.publishEnd(event, 'voice.call.rejected', {
        requestId,
        code: f.configuration ? failureCode(f) : 'TWILIO_REJECTED',
        reason: safeReason(f.message),
        ...(f.twilioErrorCode !== undefined ? { twilioErrorCode: f.twilioErrorCode } : {}),
      });
      return;
    }
    await this.publishEnd(event, 'voice.call.accepted', {
      requestId,
      callSid,
      status: r.status,
      attempts: r.attempts,
      deduplicated: r.kind === 'already_ended',
    });
  }

  /** The calls-per-second limit is shared by every instance like the message limits. */
  partitionsAssigned(info: AssignmentInfo): void {
    if (info.total > 0) this.deps.limiter.setShare(Math.max(info.assigned, 1) / info.total);
  }

  /** Calls waiting for a calls-per-second token (the consumer pauses fetching while many wait). */
  waiting(): number {
    return this.deps.limiter.waiting();
  }

  private async publishEnd<T extends 'voice.call.accepted' | 'voice.call.rejected'>(
    event: CallEndRequest,
    type: T,
    data: DataOf<T>,
  ): Promise<void> {
    await this.deps.publisher.publish(this.deps.builder.outcome(event, type, data));
    this.deps.metrics?.voiceCallsEnded.inc({
      via: 'kafka',
      outcome:
        type === 'voice.call.rejected'
          ? 'rejected'
          : (data as DataOf<'voice.call.accepted'>).deduplicated
            ? 'already_ended'
            : 'ended',
    });
  }
}
