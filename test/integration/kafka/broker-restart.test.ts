import { startOwnCluster } from '../../helpers/kafka-cluster';
import { recordCount } from '../../helpers/kafka';
import { waitFor } from '../../helpers/wait-for';
import { CUSTOMER, SENDER, redeliver, startWebhookEnvOn, type WebhookEnv } from '../twilio/webhooks/webhook-env';

jest.setTimeout(180_000);

const BATCH = 20;

/**
 * Sends BATCH inbound webhooks, five at a time, redelivering each one refused with 503 as Twilio would,
 * until it is answered 200. Returns their MessageSids and how many redeliveries it took.
 */
async function sendBatch(env: WebhookEnv, label: string): Promise<{ sids: string[]; redeliveries: number }> {
  const sids: string[] = [];
  let redeliveries = 0;
  const one = async (body: string) => {
    const r = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body });
    let status = r.statusCodes[r.statusCodes.length - 1];
    while (status !== 200) {
      expect(status).toBe(503);
      expect(++redeliveries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await redeliver(r.webhook!)).status;
    }
    sids.push(r.messageSid);
  };
  for (let i = 0; i < BATCH; i += 5) {
    await Promise.all(Array.from({ length: 5 }, (_, j) => one(`${label} ${i + j}`)));
  }
  return { sids, redeliveries };
}

// Apache Kafka keeps what it acknowledged across a broker restart, whether the broker stops cleanly or is
// killed; the service reconnects by itself. (The mock broker starts empty after a restart.)
describe('a broker restart under the running service (Apache Kafka, persistence)', () => {
  it('keeps every acknowledged webhook through a SIGTERM and a SIGKILL of the broker, and the service resumes by itself', async () => {
    const cluster = await startOwnCluster({ apacheKafka: true });
    const env = await startWebhookEnvOn(cluster.brokers);
    const ready = () => env.server.health().kafka;
    const acked: string[] = [];

    acked.push(...(await sendBatch(env, 'before')).sids);
    for (const [fault, label] of [
      ['stop', 'after SIGTERM'],
      ['kill', 'after SIGKILL'],
    ] as const) {
      await cluster.node(fault);
      await cluster.node('start');
      // The first webhooks after the restart may be refused while the producer reconnects; Twilio retries them.
      const batch = await sendBatch(env, label);
      acked.push(...batch.sids);
      expect(ready()).toBe(true);
    }

    // Every acknowledged webhook is on the topic exactly once: nothing lost, nothing written twice.
    expect(acked).toHaveLength(3 * BATCH);
    expect(new Set(acked).size).toBe(acked.length);
    expect(await recordCount(env.topics.inbound, cluster.brokers)).toBe(acked.length);
    const { events } = await env.envelopes(env.topics.inbound, acked.length);
    const sids = events.map((e) => (e.type === 'sms.inbound.received' ? e.data.messageSid : e.type));
    expect(sids.sort()).toEqual([...acked].sort());
    expect(new Set(events.map((e) => e.id)).size).toBe(acked.length);
    expect(env.server.state).toBe('running');
  });

  it('is not ready while the broker is frozen (SIGSTOP), answers webhooks 503, and ready again once it thaws', async () => {
    const cluster = await startOwnCluster({ apacheKafka: true });
    const env = await startWebhookEnvOn(cluster.brokers);
    const ready = async () => (await fetch(`${env.baseUrl}/readyz`)).status === 200;
    expect(await ready()).toBe(true);
    const before = await sendBatch(env, 'before the freeze');

    await cluster.node('freeze');
    let frozen: Awaited<ReturnType<typeof env.sim.sendInbound>>;
    try {
      frozen = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'during the freeze' });
      expect(frozen.statusCodes).toEqual([503]);
      await waitFor(async () => !(await ready()), 10_000, '/readyz to turn false');
    } finally {
      await cluster.node('thaw');
    }
    // Twilio retries the refused webhook; the record of its first attempt may have been written after the thaw.
    await waitFor(async () => (await redeliver(frozen.webhook!)).status === 200, 30_000, 'the redelivery to be taken');
    const after = await sendBatch(env, 'after the thaw');
    await waitFor(ready, 30_000, '/readyz to turn true again');

    // Nothing acknowledged is missing; a record written twice (a 503 whose first attempt landed) shares its id.
    const acked = [...before.sids, frozen.messageSid, ...after.sids];
    const records = await recordCount(env.topics.inbound, cluster.brokers);
    expect(records - acked.length).toBeLessThanOrEqual(1);
    const { events } = await env.envelopes(env.topics.inbound, records);
    const sids = events.map((e) => (e.type === 'sms.inbound.received' ? e.data.messageSid : e.type));
    expect(new Set(sids)).toEqual(new Set(acked));
    expect(new Set(events.map((e) => e.id)).size).toBe(acked.length);
  });
});
