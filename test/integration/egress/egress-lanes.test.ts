import { customer, egressConsumerOf, startEgressEnv, waitFor } from './egress-env';
import type { EgressLanes } from '../../../src/egress/egress-lanes';
import type { IngressEgressServer } from '../../../src/server';

jest.setTimeout(120_000);

const lanesOf = (server: IngressEgressServer) => egressConsumerOf(server) as unknown as EgressLanes;

describe('egress priority lanes on the real broker', () => {
  it('sends an urgent request at once behind a bulk backlog, holds bulk to its share of the rate, and texts nobody twice', async () => {
    const env = await startEgressEnv({
      env: {
        TWILIO_RATE_LIMIT_PER_SEC: '20',
        TWILIO_RATE_LIMIT_BURST: '5',
        TWILIO_PER_NUMBER_RATE: '100',
        TWILIO_PER_NUMBER_BURST: '100',
        EGRESS_BULK_RATE_SHARE: '0.25',
      },
    });
    const BULK = 200;
    const NORMAL = 60;
    const bulk = Array.from({ length: BULK }, (_, i) =>
      env.request({ to: customer(i), body: `campaign ${i}`, priority: 'bulk' }),
    );
    const normal = Array.from({ length: NORMAL }, (_, i) =>
      env.request({ to: customer(1_000 + i), body: `notice ${i}` }),
    );
    await Promise.all([...bulk, ...normal].map((r) => env.producer.publish(r)));
    expect(await env.count(env.topics.egressBulk)).toBe(BULK);
    expect(await env.count(env.topics.egress)).toBe(NORMAL);

    const server = env.service();
    await server.start();
    const sentOf = (prefix: string) => env.sim.inspect.sent().filter((m) => m.body.startsWith(prefix));
    await waitFor(() => sentOf('campaign').length >= 20, 60_000, 'bulk sending');

    // An urgent request while both queues are full.
    const urgent = env.request({ to: customer(9_999), body: 'your code is 123456', priority: 'urgent' });
    const publishedAt = Date.now();
    await env.producer.publish(urgent);
    expect(await env.count(env.topics.egressUrgent)).toBe(1);
    await waitFor(() => env.sim.inspect.sentTo(customer(9_999)).length === 1, 10_000, 'urgent sent');
    const urgentMs = env.sim.inspect.sentTo(customer(9_999))[0]!.dateCreated.getTime() - publishedAt;
    // At 20/s the next account token is 50 ms away; the rest is Kafka and the consumer (the machine is shared).
    expect(urgentMs).toBeLessThan(2_000);
    expect(sentOf('campaign').length).toBeLessThan(BULK);

    // Once the normal lane is done, measure how the account rate was split while both lanes were busy.
    await waitFor(() => sentOf('notice').length === NORMAL, 60_000, 'normal lane done');
    const times = (prefix: string) => sentOf(prefix).map((m) => m.dateCreated.getTime());
    const normalTimes = times('notice');
    const from = Math.min(...normalTimes) + 1_000;
    const to = Math.max(...normalTimes);
    const rate = (ts: number[]) => ts.filter((t) => t >= from && t <= to).length / ((to - from) / 1000);
    const bulkRate = rate(times('campaign'));
    const normalRate = rate(normalTimes);
    // Bulk: 25 % of 20/s; normal gets the rest.
    expect(bulkRate).toBeLessThan(5 * 1.4);
    expect(normalRate).toBeGreaterThan(bulkRate * 1.5);

    await waitFor(() => lanesOf(server).stats().lanes.urgent.handled === 1, 10_000, 'urgent outcome');
    const stats = lanesOf(server).stats();
    expect(stats.lanes.normal.handled).toBe(NORMAL);
    expect(stats.handled).toBe(1 + NORMAL + stats.lanes.bulk.handled);
    expect(stats.lanes.urgent.assignedPartitions).toBe(4);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    const outcomes = env.events(await env.read(env.topics.outcomes, await env.count(env.topics.outcomes)));
    expect(outcomes.find((o) => o.causationId === urgent.id)?.type).toBe('sms.outbound.accepted');
  });
});
