import type { EgressPriority } from '../envelope';
import type { LifecycleState } from '../common/lifecycle';
import type { EgressConsumer, EgressConsumerStats } from './egress-consumer';

/** Counters summed over the lanes; the group fields (joins, heartbeats, partitions, paused) are the normal lane's. */
export interface EgressLanesStats extends EgressConsumerStats {
  lanes: Record<EgressPriority, EgressConsumerStats>;
}

const SUMMED = ['handled', 'unrouted', 'poison', 'retries', 'commits'] as const;

/**
 * The egress lanes (docs/egress.md, "Priority lanes"): one EgressConsumer per priority, each on its own topic and
 * in its own consumer group. kafkajs fetches a node's next batches only when the current ones are done, so a
 * consumer working through a queue of 10,000 requests would hold back anything else it reads; a consumer of its own
 * lets an urgent request be fetched at once. The lanes share the handlers (ledger, rate limiter, circuit breaker),
 * where an urgent send queues ahead of the others and bulk sends keep to their share of the rate.
 *
 * Started and stopped together: stop drains every lane at once, within the same deadline.
 */
export class EgressLanes {
  constructor(readonly lanes: Readonly<Record<EgressPriority, EgressConsumer>>) {}

  private all(): EgressConsumer[] {
    return [this.lanes.urgent, this.lanes.normal, this.lanes.bulk];
  }

  get state(): LifecycleState {
    return this.lanes.normal.state;
  }

  /** Ready while every lane is (a lane down after a fatal crash is a lane not served). */
  isReady(): boolean {
    return this.all().every((c) => c.isReady());
  }

  get hasJoined(): boolean {
    return this.all().every((c) => c.hasJoined);
  }

  async start(): Promise<void> {
    const results = await Promise.allSettled(this.all().map((c) => c.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((c) => c.stop()));
  }

  /** Each lane's EgressConsumer.diagnostics(). */
  diagnostics(): Record<EgressPriority, Record<string, unknown>> {
    return {
      urgent: this.lanes.urgent.diagnostics(),
      normal: this.lanes.normal.diagnostics(),
      bulk: this.lanes.bulk.diagnostics(),
    };
  }

  stats(): EgressLanesStats {
    const lanes = {
      urgent: this.lanes.urgent.stats(),
      normal: this.lanes.normal.stats(),
      bulk: this.lanes.bulk.stats(),
    };
    const total = { ...lanes.normal };
    for (const key of SUMMED) total[key] = lanes.urgent[key] + lanes.normal[key] + lanes.bulk[key];
    return { ...total, lanes };
  }
}
