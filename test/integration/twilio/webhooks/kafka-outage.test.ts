import { startOwnCluster } from '../../../helpers/kafka-cluster';
import { recordCount } from '../../../helpers/kafka';
import { waitFor } from '../../../helpers/wait-for';
import { CUSTOMER, SENDER, redeliver, startWebhookEnvOn, type WebhookEnv } from './webhook-env';

jest.setTimeout(90_000);

const kafkaReady = (env: WebhookEnv) => env.server.health().kafka;

describe('inbound webhooks while Kafka is stopped and restarted', () => {
  it('answers 503 while the broker is down, and 200 again (with the record on Kafka) once it is back', async () => {
    // Its own broker, because this test stops it.
    const broker = await startOwnCluster();
    const brokers = broker.brokers;
    const env = await startWebhookEnvOn(brokers);

    const before = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'before the outage' });
    expect(before.statusCodes).toEqual([200]);
    await env.envelopes(env.topics.inbound, 1);

    await broker.node('stop');
    const during = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'during the outage' });
    expect(during.statusCodes).toEqual([503]);
    expect(during.webhook!.attempts[0]!.durationMs).toBeLessThan(10_000);
    expect(JSON.parse(during.webhook!.responseBody!)).toMatchObject({ error: 'kafka_unavailable' });
    await waitFor(() => !kafkaReady(env), 10_000, 'the publisher to notice the outage');
    // Once the publisher knows, refusals are immediate.
    const fast = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'still down' });
    expect(fast.statusCodes).toEqual([503]);
    expect(fast.webhook!.attempts[0]!.durationMs).toBeLessThan(1000);

    await broker.node('start'); // same port: the publisher reconnects by itself
    await waitFor(() => kafkaReady(env), 20_000, 'the publisher to reconnect');
    const after = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'after the outage' });
    expect(after.statusCodes).toEqual([200]);

    // Twilio's retry of the webhook refused during the outage.
    const retry = await redeliver(during.webhook!);
    expect(retry.status).toBe(200);

    // Apache Kafka kept the record acknowledged before the outage; the restarted mock starts empty. Either
    // way every webhook answered 200 is there, once.
    const expected = [after.messageSid, during.messageSid, ...(broker.kind === 'kafka' ? [before.messageSid] : [])];
    const { events } = await env.envelopes(env.topics.inbound, expected.length);
    expect(events.map((e) => e.type === 'sms.inbound.received' && e.data.messageSid).sort()).toEqual(expected.sort());
    expect(await recordCount(env.topics.inbound, brokers)).toBe(expected.length);
  });
});
