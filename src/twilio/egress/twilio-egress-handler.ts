import type { EgressPriority, EventType, InternalEventV2 } from '../../envelope';
import type { AssignmentInfo, EgressContext, EgressHandler } from '../../connector';
import { handleCancel } from './cancel-request';
import type { Decision, Delivery, OutboundRequest } from './delivery';
import type { EgressDeps } from './egress-deps';
import { OUTCOME_CODES } from '../../egress/egress-errors';
import { Pipeline } from './pipeline';
import { ledgerKey } from './send-ledger';
import { circuitBreakerStage } from './stages/circuit-breaker-stage';
import { consentStage } from './stages/consent-stage';
import { intentStage } from './stages/intent-stage';
import { ledgerStage } from './stages/ledger-stage';
import { outcomeStage } from './stages/outcome-stage';
import { rateLimitStage } from './stages/rate-limit-stage';
import { sendStage } from './stages/send-stage';
import { validateStage } from './stages/validate-stage';

export interface TwilioEgressHandlerOptions {
  /** Recipients of one bulk request sent at the same time. Default 16. */
  bulkConcurrency?: number;
  /** The consumer pauses fetching while more sends than this wait for a rate-limit token. Default 1000. */
  maxRateLimitWaiters?: number;
  /** Other kinds of request on the egress topic (voice calls), each with its own pipeline. */
  extensions?: readonly EgressExtension[] | undefined;
}

/**
 * Requests of other types on the egress topic, handled by their own pipeline
 * (voice calls: src/twilio/voice-egress). The handler hands each record of
 * `types` over, shares the assignment with it and counts its waiting work in
 * its backpressure. A type no extension takes goes to the DLQ as unsupported.
 */
export interface EgressExtension {
  readonly types: readonly EventType[];
  handle(event: InternalEventV2, context: EgressContext): Promise<void>;
  partitionsAssigned(info: AssignmentInfo): void;
  /** Work waiting for a rate-limit token. */
  waiting(): number;
}

/**
 * The Twilio connector's egress handler: decode, then per recipient the
 * named stages ledger → validate → consent → intent → rate-limit → circuit-breaker →
 * send → outcome. A bulk request (`recipients`) runs them per recipient and
 * ends with an `sms.outbound.summary`. Cancel requests cancel scheduled
 * messages. It resolves after every outcome is on Kafka and throws only
 * retriable infrastructure errors.
 */
export class TwilioEgressHandler implements EgressHandler {
  readonly pipeline: Pipeline;
  private readonly bulkConcurrency: number;
  private readonly maxWaiters: number;
  private readonly extensions: readonly EgressExtension[];

  constructor(
    readonly deps: EgressDeps,
    options: TwilioEgressHandlerOptions = {},
  ) {
    this.bulkConcurrency = options.bulkConcurrency ?? 16;
    this.maxWaiters = options.maxRateLimitWaiters ?? 1000;
    this.extensions = options.extensions ?? [];
    this.pipeline = new Pipeline({
      stages: [
        ledgerStage(deps),
        validateStage(deps),
        consentStage(deps),
        intentStage(deps),
        rateLimitStage(deps),
        circuitBreakerStage(deps),
        sendStage(deps),
      ],
      outcome: outcomeStage(deps),
      clock: deps.clock,
      logger: deps.logger,
    });
  }

  async handle(event: InternalEventV2, context: EgressContext): Promise<void> {
    switch (event.type) {
      case 'sms.outbound.requested':
        return this.handleRequest(event, context);
      case 'sms.outbound.cancel_requested':
        return handleCancel(this.deps, event, context);
    }
    const extension = this.extensions.find((x) => x.types.includes(event.type));
    if (extension) return extension.handle(event, context);
    // Not a request (a producer wrote to the wrong topic): keep it, with the reason, out of the way.
    await this.deps.dlq.writeEvent(
      event,
      { code: 'UNSUPPORTED_EVENT', reason: `${event.type} is not an egress request`, stage: 'decode' },
      { topic: context.topic, partition: context.partition, offset: context.offset },
    );
  }

  /** Called by the egress consumer on every assignment, before it hands over records. */
  async partitionsAssigned(info: AssignmentInfo): Promise<void> {
    // The share of the shared limits follows the main (normal) lane's assignment: every instance runs all lanes,
    // and voice requests live on the main egress topic only.
    const main = info.lane === undefined || info.lane === 'normal';
    if (main && info.total > 0) this.deps.limiter.setShare(Math.max(info.assigned, 1) / info.total);
    if (main) for (const x of this.extensions) x.partitionsAssigned(info);
    await Promise.all([this.deps.consentReady?.(), this.deps.ledger.restore()]);
  }

  /**
   * Polled by the egress consumer, per lane: fetching pauses while Twilio is down or sends queue for tokens.
   * The urgent lane pauses only for the circuit (its sends jump the token queues); the bulk lane for its own queue.
   */
  shouldPause(lane: EgressPriority = 'normal'): boolean {
    if (this.deps.circuits.anyOpen()) return true;
    if (lane === 'urgent') return false;
    if (lane === 'bulk') return this.deps.limiter.waiting('bulk') > this.maxWaiters;
    const waiting = this.deps.limiter.waiting() + this.extensions.reduce((n, x) => n + x.waiting(), 0);
    return waiting > this.maxWaiters;
  }

  private async handleRequest(request: OutboundRequest, context: EgressContext): Promise<void> {
    const d = request.data;
    if (d.recipients === undefined) {
      const written = d.to ?? d.conversationSid;
      if (written === undefined) {
        await this.pipeline.run(this.delivery(request, { recipient: '', spellings: [] }, '', context, 'NO_RECIPIENT'));
        return;
      }
      await this.pipeline.run(this.delivery(request, this.recipientOf(request, written), '', context));
      return;
    }
    const recipients = this.distinctRecipients(request, d.to !== undefined ? [d.to, ...d.recipients] : d.recipients);
    const decisions: Decision[] = new Array<Decision>(recipients.length);
    let next = 0;
    let failure: { err: unknown } | undefined;
    const worker = async () => {
      while (next < recipients.length && failure === undefined) {
        const i = next++;
        const r = recipients[i]!;
        try {
          decisions[i] = await this.pipeline.run(this.delivery(request, r, r.recipient, context));
        } catch (err) {
          failure ??= { err };
        }
        if (i % 50 === 0) await context.heartbeat();
      }
    };
    // Every started recipient settles before a failure propagates: a retry of the record must
    // never race a send of this one still in flight.
    await Promise.all(Array.from({ length: Math.min(this.bulkConcurrency, recipients.length) }, worker));
    if (failure !== undefined) throw failure.err;
    const count = (t: Decision['type']) => decisions.filter((x) => x.type === t).length;
    await this.deps.publisher.publish(
      this.deps.builder.outcome(
        request,
        'sms.outbound.summary',
        {
          requestId: request.id,
          total: recipients.length,
          accepted: count('sms.outbound.accepted'),
          rejected: count('sms.outbound.rejected'),
          failed: count('sms.outbound.failed'),
        },
        'summary',
      ),
    );
  }

  /** One recipient of a request: its key (E.164 when it parses) and how the request spelled it. */
  private recipientOf(request: OutboundRequest, written: string): Recipient {
    return { recipient: this.deps.validator.recipientKey(request, written), spellings: [written] };
  }

  /**
   * A bulk request's recipients, one per number in the order first named: spellings of one number (`+15017122661`,
   * `+1 501-712-2661`, a national one) are one recipient, texted once with one outcome, like an exact repeat.
   */
  private distinctRecipients(request: OutboundRequest, written: readonly string[]): Recipient[] {
    const byKey = new Map<string, Recipient>();
    for (const w of written) {
      const r = this.recipientOf(request, w);
      const known = byKey.get(r.recipient);
      if (!known) byKey.set(r.recipient, r);
      else if (!known.spellings.includes(w)) known.spellings.push(w);
    }
    if (byKey.size < written.length) {
      this.deps.logger.info(
        { requestId: request.id, named: written.length, distinct: byKey.size },
        'bulk request names some numbers more than once: each number is texted once',
      );
    }
    return [...byKey.values()];
  }

  private delivery(
    request: OutboundRequest,
    r: Recipient,
    discriminator: string,
    context: EgressContext,
    rejectWith?: 'NO_RECIPIENT',
  ): Delivery {
    const d: Delivery = {
      request,
      recipient: r.recipient,
      discriminator,
      ledgerKey: ledgerKey(request.id, r.recipient),
      writtenKeys: r.spellings.filter((w) => w !== r.recipient).map((w) => ledgerKey(request.id, w)),
      context,
      intentWritten: false,
      attempts: 0,
      ambiguous: false,
      pending: [],
    };
    if (rejectWith) {
      d.decision = {
        type: 'sms.outbound.rejected',
        data: { requestId: request.id, code: rejectWith, reason: OUTCOME_CODES[rejectWith] },
      };
    }
    return d;
  }
}

interface Recipient {
  /** What the ledger key and the outcome id use (see OutboundValidator.recipientKey). */
  recipient: string;
  /** How the request wrote it (several spellings of one number in a bulk request). */
  spellings: string[];
}
