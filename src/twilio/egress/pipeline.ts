import type { Logger } from '../../observability';
import type { Clock } from '../../resilience';
import { StageRunner } from '../../egress';
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
 * Runs one SMS delivery through the named stages in order (the egress runtime's StageRunner). A bug in a stage
 * becomes an `sms.outbound.failed` outcome naming the stage, so a poison request lands in the DLQ instead of
 * blocking its partition.
 */
export class Pipeline extends StageRunner<StageName, Delivery, Decision> {
  constructor(o: PipelineOptions) {
    super({
      ...o,
      label: 'egress',
      failed: (d, stage, reason) => ({
        type: 'sms.outbound.failed',
        stage,
        data: {
          requestId: d.request.id,
          to: d.recipient,
          code: 'INTERNAL_ERROR',
          reason,
          attempts: d.attempts,
          retriable: false,
        },
      }),
    });
  }
}
