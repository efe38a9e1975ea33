import { IngressEgressError } from '../errors';
import { inSpan, type Logger, type SpanOptions } from '../observability';
import { readRetriable, sleep, type Clock } from '../resilience';

/**
 * What a stage tells the runner: go on, stop with a decision (the outcome
 * stage publishes it), or go back to an earlier stage after a delay (a retry
 * goes back to rate-limit so every attempt takes a token and a permit).
 */
export type StageResult<Name extends string, Decision> =
  | { readonly kind: 'next' }
  | { readonly kind: 'decide'; readonly decision: Decision }
  | { readonly kind: 'retry'; readonly from: Name; readonly delayMs: number };

export interface RunnerStage<Name extends string, Subject, Decision> {
  readonly name: Name;
  /**
   * True when nothing the stage runs starts a span (no publish, no HTTP call): its span is then not made the
   * active one, which saves a context per run. Leave it unset when in doubt: a span started under a leaf stage
   * would get the stage's parent as its own.
   */
  readonly leaf?: boolean;
  run(subject: Subject): Promise<StageResult<Name, Decision>>;
}

/** What the runner needs of the record a channel walks through its stages. */
export interface StageSubject<Decision> {
  readonly request: { readonly id: string };
  readonly context: { readonly signal: AbortSignal };
  permit?: { release(): void };
  decision?: Decision;
}

export interface StageRunnerOptions<Name extends string, Subject, Decision> {
  /** The stages before the outcome, in order. */
  stages: RunnerStage<Name, Subject, Decision>[];
  /** Always runs last and publishes exactly one event for the subject. */
  outcome: RunnerStage<Name, Subject, Decision>;
  clock: Clock;
  logger: Logger;
  /** Names the pipeline in its log line and errors, e.g. "egress". */
  label: string;
  /** The failed outcome for a bug (a non-retriable throw) in `stage`. */
  failed(subject: Subject, stage: Name, reason: string): Decision;
}

/**
 * Runs one request through a channel's named stages in order (docs/contributing.md, "How to add …"). A stage
 * that decides ends the walk; the outcome stage then always runs. A retriable error (Kafka or Twilio unreachable, the
 * ledger not writable) leaves without an outcome: the consumer retries the record and does not commit it. Any other
 * throw is a bug: it becomes a failed outcome naming the stage, so a poison request lands in the DLQ instead of
 * blocking its partition.
 */
export class StageRunner<Name extends string, Subject extends StageSubject<Decision>, Decision> {
  private readonly index = new Map<Name, number>();
  /** Each stage's span name and options, made once rather than per request. */
  private readonly spans: { name: string; options: SpanOptions }[];
  private readonly outcomeSpan: string;

  constructor(private readonly o: StageRunnerOptions<Name, Subject, Decision>) {
    o.stages.forEach((s, i) => this.index.set(s.name, i));
    this.spans = o.stages.map((s) => ({
      name: `${o.label} stage ${s.name}`,
      options: { attributes: { 'egress.stage': s.name }, ...(s.leaf === true ? { active: false } : {}) },
    }));
    this.outcomeSpan = `${o.label} stage ${o.outcome.name}`;
  }

  get stageNames(): Name[] {
    return [...this.o.stages.map((s) => s.name), this.o.outcome.name];
  }

  async run(d: Subject): Promise<Decision> {
    let i = 0;
    let current: Name = this.o.stages[0]?.name ?? this.o.outcome.name;
    try {
      while (i < this.o.stages.length && d.decision === undefined) {
        const stage = this.o.stages[i]!;
        current = stage.name;
        const traced = this.spans[i]!;
        const r = await inSpan(traced.name, traced.options, (span) =>
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
      this.o.logger.error(
        { err, stage: current, requestId: d.request.id },
        `${this.o.label} stage failed unexpectedly`,
      );
      const reason = `unexpected error in stage ${current}: ${err instanceof Error ? err.name : 'unknown'}`;
      d.decision = this.o.failed(d, current, reason);
    }
    if (d.decision === undefined) {
      throw new IngressEgressError('IE_INTERNAL', `${this.o.label} stages ended without a decision`);
    }
    const decision = d.decision;
    await inSpan(
      this.outcomeSpan,
      { attributes: { 'egress.stage': this.o.outcome.name, 'egress.outcome': outcomeType(decision) } },
      () => this.o.outcome.run(d),
    );
    return decision;
  }
}

/** The decision's event type (e.g. sms.outbound.sent) for the outcome span, when it has one. */
function outcomeType(decision: unknown): string {
  const type = (decision as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : 'unknown';
}
