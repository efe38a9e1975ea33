import type { InternalEventV2 } from '../../../src/envelope';
import { readRecords } from '../../helpers/kafka-consumer';
import { testKafka } from '../../helpers/kafka';
import { startOwnCluster } from '../../helpers/kafka-cluster';
import { customer, egressConsumerOf, startEgressEnv, waitFor } from './egress-env';

jest.setTimeout(240_000);

// kafkajs stops a consumer for good when no broker answers for a while (KafkaJSNoBrokerAvailableError, "The
// group id was not found"): the egress consumer must come back by itself, and readiness must say so meanwhile.
describe('egress through an Apache Kafka broker restart', () => {
  it('stops the broker for 10 s while egress is busy: egress resumes by itself, every request gets one outcome, no SMS twice', async () => {
    const cluster = await startOwnCluster({ apacheKafka: true });
    const env = await startEgressEnv({ brokers: cluster.brokers, env: { EGRESS_SESSION_TIMEOUT_SECS: '6' } });
    const N = 300;
    // A slow Twilio keeps egress busy while the broker goes away.
    env.sim.faults.latency(40, { match: { operation: 'create' } });
    for (let i = 0; i < N; i++) await env.producer.publish(env.request({ to: customer(i), body: `restart ${i}` }));
    const server = env.service();
    await server.start();
    await waitFor(() => env.sim.inspect.sent().length >= 30, 60_000, 'egress to be busy');

    await cluster.node('stop');
    await new Promise((r) => setTimeout(r, 10_000));
    await cluster.node('start');

    // Every request answered: outcome records of requests redelivered after the restart repeat (same event id),
    // so count distinct requests, not records.
    let outcomes: InternalEventV2[] = [];
    const answered = async () => {
      const count = await env.count(env.topics.outcomes).catch(() => 0);
      if (count < N) return false;
      const records = await readRecords({ topics: [env.topics.outcomes], count, kafka: testKafka(cluster.brokers) });
      outcomes = env.events(records);
      return new Set(outcomes.map((o) => o.causationId)).size >= N;
    };
    const distinct = () => new Set(outcomes.map((o) => o.causationId)).size;
    await waitFor(answered, 150_000, () => `all ${N} requests answered (${distinct()})`);
    await waitFor(() => server.health().ready, 30_000, 'readiness after the restart');
    expect(egressConsumerOf(server).isReady()).toBe(true);
    const byRequest = new Map<string, InternalEventV2[]>();
    for (const o of outcomes) byRequest.set(o.causationId!, [...(byRequest.get(o.causationId!) ?? []), o]);
    // Every request has an outcome; a repeated outcome record (written again after the restart) is the same event.
    expect(byRequest.size).toBe(N);
    for (const list of byRequest.values()) expect(new Set(list.map((o) => o.id)).size).toBe(1);
    expect(outcomes.filter((o) => o.type !== 'sms.outbound.accepted')).toEqual([]);
    // No SMS twice.
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    expect(env.sim.inspect.sent()).toHaveLength(N);
    for (let i = 0; i < N; i++) expect(env.sim.inspect.sentTo(customer(i))).toHaveLength(1);
  });
});
