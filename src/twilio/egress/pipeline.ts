import { IngressEgressError } from '../../errors';
import { inSpan, type Logger } from '../../observability';
import { readRetriable, sleep, type Clock } from '../../resilience';
import type { Decision, Delivery } from './delivery';
import type { Stage, StageName } from './stage';

export interface PipelineOptions {
  /** The stages before the outcome, in order. */
  stages: Stage[];
  /** Always runs last and publishes exactly one event for the delivery. */
  outcome: Stage;
  clock: Clock;
  logger: Logger;
}

/**
 * Runs one delivery through the named stages in order. A stage that decides
 * ends the walk; the outcome stage then always runs. A retriable error
 * (Kafka or Twilio unreachable, the ledger not writable) leaves without an
 * outcome: the consumer retries the record and does not commit it. Any other
 * throw is a bug: it becomes a failed outcome with the stage named, so a
 * poison request lands in the DLQ instead of blocking its partition.
 */
export class Pipeline {
  private readonly index = new Map<StageName, number>();

  constructor(private readonly o: PipelineOptions) {
    o.stages.forEach((s, i) => this.index.set(s.name, i));
  }

  get stageNames(): StageName[] {
    return [...this.o.stages.map((s) => s.name), this.o.outcome.name];
  }

  async run(d: Delivery): Promise<Decision> {
    let i = 0;
    let current: StageName = this.o.stages[0]?.name ?? 'outcome';
    try {
      while (i < this.o.stages.length && d.decision === undefined) {
        const stage = this.o.stages[i]!;
        current = stage.name;
        const r = await inSpan(`egress stage ${stage.name}`, { attributes: { 'egress.stage': stage.name } }, (span) =>
          stage.run(d).then((result) => {
            span.setAttribute('egress.stage.result', result.kind);
            return result;
          }),
        );
        if (r.kind === 'next') i++;
        else if (r.kind === 'decide') d.decision = r.decision;
        else {
          const to = this.index.get(r.from);
          if (to === undefined || to > i) throw new IngressEgressError('IE_INTERNAL', `cannot retry from ${r.from}`);
          await sleep(this.o.clock, r.delayMs, d.context.signal);
          i = to;
        }
      }
    } catch (err) {
      d.permit?.release();
      d.permit = undefined;
      if (readRetriable(err) || d.context.signal.aborted) throw err;
      this.o.logger.error({ err, stage: current, requestId: d.request.id }, 'egress stage failed unexpectedly');
      d.decision = {
        type: 'sms.outbound.failed',
        stage: current,
        data: {
          requestId: d.request.id,
          to: d.recipient,
          code: 'INTERNAL_ERROR',
          reason: `unexpected error in stage ${current}: ${err instanceof Error ? err.name : 'unknown'}`,
          attempts: d.attempts,
          retriable: false,
        },
      };
    }
    if (d.decision === undefined) {
      throw new IngressEgressError('IE_INTERNAL', 'egress stages ended without a decision');
    }
    await inSpan(
      `egress stage ${this.o.outcome.name}`,
      { attributes: { 'egress.stage': this.o.outcome.name, 'egress.outcome': d.decision.type } },
      () => this.o.outcome.run(d),
    );
    return d.decision;
  }
}
