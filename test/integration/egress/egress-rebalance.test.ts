import type { InternalEventV2 } from '../../../src/envelope';
import { customer, egressConsumerOf, startEgressEnv, waitFor } from './egress-env';

jest.setTimeout(240_000);

const N = 300;

describe('egress with two service instances in one consumer group', () => {
  it('through a late join and a stop mid-way, gives every request one outcome and texts nobody twice', async () => {
    const env = await startEgressEnv({ env: { TWILIO_TIMEOUT_SECS: '2', EGRESS_CONCURRENCY: '8' } });
    // Real sends take time, so each rebalance lands while sends are in flight.
    env.sim.faults.latency(30, { match: { operation: 'create' }, jitterMs: 30 });
    const requests = Array.from({ length: N }, (_, i) => env.request({ to: customer(i), body: `rebalance ${i}` }));
    const sent = () => env.sim.inspect.stats().outbound;
    // Requests flow while the group changes: the first half now, the second once the second instance joined.
    await Promise.all(requests.slice(0, N / 2).map((r) => env.producer.publish(r)));

    const a = env.service();
    await a.start();
    const ca = egressConsumerOf(a);
    await waitFor(() => sent() >= 50, 60_000, 'the first instance to send');

    // The second instance joins the same group (KAFKA_GROUP_ID) late: the partitions are shared out.
    const b = env.service();
    await b.start();
    const cb = egressConsumerOf(b);
    await waitFor(
      () => cb.stats().assignedPartitions > 0 && ca.stats().assignedPartitions + cb.stats().assignedPartitions === 4,
      60_000,
      () => `the partitions shared by both (a ${ca.stats().assignedPartitions}, b ${cb.stats().assignedPartitions})`,
    );
    const sharedAt = sent();
    await Promise.all(requests.slice(N / 2).map((r) => env.producer.publish(r)));
    await waitFor(() => cb.stats().handled > 0 && sent() >= sharedAt + 50, 60_000, 'both instances to send');

    // The first instance stops mid-way: the second takes over every partition.
    const handledByAAtStop = ca.stats().handled;
    const sentAtStop = sent();
    await a.stop();
    await waitFor(() => cb.stats().assignedPartitions === 4, 60_000, 'the second instance to take every partition');

    // Every request answered (records of a redelivered request may repeat).
    const outcomes: InternalEventV2[] = [];
    await waitFor(
      async () => {
        const have = await env.count(env.topics.outcomes);
        if (have > outcomes.length)
          outcomes.splice(0, outcomes.length, ...env.events(await env.read(env.topics.outcomes, have)));
        return new Set(outcomes.map((o) => o.causationId)).size >= N;
      },
      120_000,
      () => `outcomes for all ${N} requests (have ${outcomes.length} records)`,
    );

    const byRequest = new Map<string, InternalEventV2[]>();
    for (const o of outcomes) byRequest.set(o.causationId!, [...(byRequest.get(o.causationId!) ?? []), o]);
    let sentTwice = 0;
    for (const [i, r] of requests.entries()) {
      const list = byRequest.get(r.id) ?? [];
      expect(list.length).toBeGreaterThan(0);
      // One outcome: several records only as redeliveries of the same outcome (one event id).
      expect(new Set(list.map((o) => o.id)).size).toBe(1);
      const o = list[0]!;
      expect(o.type).toBe('sms.outbound.accepted');
      const to = env.sim.inspect.sentTo(customer(i));
      if (to.length > 1) sentTwice++;
      expect(to).toHaveLength(1);
      if (o.type === 'sms.outbound.accepted') expect(o.data.messageSid).toBe(to[0]!.sid);
    }
    const report = {
      requests: N,
      sentBeforeJoin: sharedAt,
      sentAtStop,
      handledByAAtStop,
      handledByA: ca.stats().handled,
      handledByB: cb.stats().handled,
      joinsA: ca.stats().joins,
      joinsB: cb.stats().joins,
      outcomeRecords: outcomes.length,
      requestsWithOutcome: byRequest.size,
      redeliveredOutcomeRecords: outcomes.length - byRequest.size,
      sent: sent(),
      duplicates: env.sim.inspect.duplicateCount(),
      sentTwice,
    };
    console.log('egress rebalance', JSON.stringify(report));

    expect(byRequest.size).toBe(N);
    expect(sentTwice).toBe(0);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    expect(sent()).toBe(N);
    expect(await env.count(env.topics.egressDlq)).toBe(0);
    // Both instances did real work, and the group really changed under them.
    expect(handledByAAtStop).toBeGreaterThan(0);
    expect(cb.stats().handled).toBeGreaterThan(0);
    expect(ca.stats().joins).toBeGreaterThanOrEqual(2);
    expect(sentAtStop).toBeLessThan(N);
  });
});
