import type { InternalEventV2 } from '../../../src/envelope';
import { startOwnCluster } from '../../helpers/kafka-cluster';
import { recordCount, testKafka } from '../../helpers/kafka';
import { readRecords } from '../../helpers/kafka-consumer';
import { customer, egressConsumerOf, startEgressEnv, waitFor } from '../egress/egress-env';

jest.setTimeout(240_000);

const N = 300;
const KILL_AFTER = 100;

/** Kafka's Utils.abs(groupId.hashCode()) % partitions: the __consumer_offsets partition whose leader coordinates the group. */
function offsetsPartitionOf(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h & 0x7fffffff) % partitions;
}

/** The partition count of `topic`, and the addresses of the cluster's nodes but one (for clients made after it died). */
async function metadata(brokers: string[], topic: string) {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
    const nodes = (await admin.describeCluster()).brokers;
    const survivorsOf = (id: number) => nodes.filter((b) => b.nodeId !== id).map((b) => `${b.host}:${b.port}`);
    return { partitions, survivorsOf };
  } finally {
    await admin.disconnect();
  }
}

/** Records of `topic` past the group's committed offsets. */
async function uncommitted(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions;
    const ends = await admin.fetchTopicOffsets(topic);
    let behind = 0;
    for (const end of ends) {
      const at = Number(committed.find((c) => c.partition === end.partition)?.offset ?? '-1');
      behind += Number(end.high) - Math.max(at, 0);
    }
    return behind;
  } finally {
    await admin.disconnect();
  }
}

/** A retriable Kafka error (a dead leader not yet replaced) counts as nothing read yet. */
const untilFailover = (err: unknown): number => {
  if ((err as { retriable?: boolean }).retriable) return -1;
  throw err;
};

describe('3-broker cluster: a broker is killed under egress', () => {
  it('gives every request exactly one outcome, texts nobody twice, and keeps running without a restart', async () => {
    const cluster = await startOwnCluster({ brokers: 3, apacheKafka: true });
    const env = await startEgressEnv({
      brokers: cluster.brokers,
      env: { TWILIO_TIMEOUT_SECS: '2', EGRESS_CONCURRENCY: '16' },
    });
    // Real sends take time, so the kill lands while sends are in flight.
    env.sim.faults.latency(30, { match: { operation: 'create' }, jitterMs: 30 });
    const requests = Array.from({ length: N }, (_, i) => env.request({ to: customer(i), body: `kill test ${i}` }));
    await Promise.all(requests.map((r) => env.producer.publish(r)));

    const server = env.service();
    await server.start();
    const consumer = egressConsumerOf(server);
    await waitFor(() => consumer.stats().joins >= 1, 60_000, 'the egress group to form');

    // The group coordinator: it leads the group's __consumer_offsets partition.
    const groupId = env.config.kafka.groupId;
    const meta = await metadata(cluster.brokers, '__consumer_offsets');
    const offsetsPartition = offsetsPartitionOf(groupId, meta.partitions);
    const victim = await cluster.leaderOf('__consumer_offsets', offsetsPartition);
    const survivors = meta.survivorsOf(victim);
    expect(survivors).toHaveLength(2);
    const egressLeaders = await Promise.all([0, 1, 2, 3].map((p) => cluster.leaderOf(env.topics.egress, p)));

    await waitFor(() => env.sim.inspect.stats().outbound >= KILL_AFTER, 120_000, `${KILL_AFTER} sends`);
    await cluster.node('kill', victim);
    const killedAt = Date.now();
    const sentAtKill = env.sim.inspect.stats().outbound;
    const handledAtKill = consumer.stats().handled;
    const commitsAtKill = consumer.stats().commits;

    // Every request answered on the outcomes topic (records of a redelivered request may repeat), read
    // by a fresh reader from the surviving nodes.
    const outcomes: InternalEventV2[] = [];
    const requestIds = new Set(requests.map((r) => r.id));
    await waitFor(
      () => consumer.stats().handled >= N,
      150_000,
      () => `${N} handled (${consumer.stats().handled})`,
    );
    const handledAllMs = Date.now() - killedAt;
    await waitFor(
      async () => {
        // Until the cluster fences the dead node, metadata may still name it leader: ask again.
        const have = await recordCount(env.topics.outcomes, survivors).catch(untilFailover);
        if (have > outcomes.length) {
          const records = await readRecords({
            topics: [env.topics.outcomes],
            count: have,
            kafka: testKafka(survivors),
          });
          outcomes.splice(0, outcomes.length, ...env.events(records));
        }
        return new Set(outcomes.map((o) => o.causationId)).size >= N;
      },
      60_000,
      () => `outcomes for all ${N} requests (have ${outcomes.length} records)`,
    );
    const recoveredMs = Date.now() - killedAt;

    const byRequest = new Map<string, InternalEventV2[]>();
    for (const o of outcomes) byRequest.set(o.causationId!, [...(byRequest.get(o.causationId!) ?? []), o]);
    const dlqCount = await recordCount(env.topics.egressDlq, survivors);
    let accepted = 0;
    let sentTwice = 0;
    for (const [i, r] of requests.entries()) {
      const list = byRequest.get(r.id) ?? [];
      // One outcome: several records only as redeliveries of the same outcome (one event id).
      expect(new Set(list.map((o) => o.id)).size).toBe(1);
      const o = list[0]!;
      const sent = env.sim.inspect.sentTo(customer(i));
      if (sent.length > 1) sentTwice++;
      if (o.type === 'sms.outbound.accepted') {
        accepted++;
        expect(sent).toHaveLength(1);
        expect(o.data.messageSid).toBe(sent[0]!.sid);
      } else {
        expect(sent).toHaveLength(0);
      }
    }
    const stats = consumer.stats();
    // Measured, not asserted: how far the group's committed offsets are behind the egress topic's end.
    const committedBehind = await uncommitted(survivors, groupId, env.topics.egress).catch(() => -1);
    const report = {
      requests: N,
      killedNode: victim,
      coordinatorPartition: offsetsPartition,
      egressLeaders,
      sentAtKill,
      handledAtKill,
      outcomeRecords: outcomes.length,
      requestsWithOutcome: byRequest.size,
      redeliveredOutcomeRecords: outcomes.length - byRequest.size,
      accepted,
      dlq: dlqCount,
      sent: env.sim.inspect.stats().outbound,
      duplicates: env.sim.inspect.duplicateCount(),
      sentTwice,
      joins: stats.joins,
      commitsAtKill,
      commits: stats.commits,
      committedBehind,
      retries: stats.retries,
      handledAllMs,
      recoveredMs,
    };
    console.log('broker-kill egress', JSON.stringify(report));

    expect([...byRequest.keys()].filter((id) => !requestIds.has(id))).toEqual([]);
    expect(byRequest.size).toBe(N);
    expect(sentTwice).toBe(0);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    expect(env.sim.inspect.stats().outbound).toBe(accepted);
    expect(accepted).toBe(N);
    expect(sentAtKill).toBeLessThan(N);
    // The same service instance went on after the kill: running, its consumer still in the group.
    expect(server.state).toBe('running');
    expect(server.health().kafka).toBe(true);
    expect(stats.assignedPartitions).toBe(4);
    // ... and it commits what it handled, so a later restart or rebalance does not redeliver it all.
    await waitFor(
      async () => (await uncommitted(survivors, groupId, env.topics.egress).catch(() => -1)) === 0,
      30_000,
      () =>
        `the egress group to commit every handled record (commits ${consumer.stats().commits}, ${commitsAtKill} at the kill)`,
    ).catch(async (err: unknown) => {
      // What to look at: the group's offsets against the topic's ends, and the service's view (pauses, commits).
      const admin = testKafka(survivors).admin();
      await admin.connect();
      const committed = (await admin.fetchOffsets({ groupId, topics: [env.topics.egress] }))[0]!.partitions;
      const ends = await admin.fetchTopicOffsets(env.topics.egress);
      await admin.disconnect();
      console.log('uncommitted after the kill', JSON.stringify({ committed, ends, service: consumer.diagnostics() }));
      throw err;
    });
  });
});
