import type { InternalEventV2 } from '../../../../src/envelope';
import { createEventPublisher } from '../../../../src/kafka/create-event-publisher';
import { silentLogger } from '../../../../src/observability';
import type { ManagedPublisher } from '../../../../src/server';
import { EMPTY_TWIML } from '../../../../src/twilio/webhooks';
import {
  ACCOUNT,
  CUSTOMER,
  MG,
  SENDER,
  SERVICE_SENDER,
  SMS_PATH,
  SUBACCOUNT,
  TOKEN,
  redeliver,
  useWebhookEnv,
  type WebhookEnv,
} from './webhook-env';

jest.setTimeout(60_000);

const byType = <T extends InternalEventV2['type']>(events: InternalEventV2[], type: T) =>
  events.filter((e): e is Extract<InternalEventV2, { type: T }> => e.type === type);

describe('inbound SMS/MMS webhooks from the simulator to Kafka', () => {
  const webhooks = useWebhookEnv();

  it('publishes an inbound SMS before answering empty TwiML', async () => {
    const env = await webhooks.start();
    const result = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'Hello from a phone' });
    expect(result.statusCodes).toEqual([200]);
    expect(result.webhook?.responseBody).toBe(EMPTY_TWIML);

    const { records, events } = await env.envelopes(env.topics.inbound, 1);
    expect(records[0]!.key).toBe(CUSTOMER);
    expect(records[0]!.headers).toMatchObject({ ce_type: 'sms.inbound.received', ce_source: 'twilio' });
    expect(events[0]).toMatchObject({
      type: 'sms.inbound.received',
      tenant: { accountSid: result.params.AccountSid },
      data: {
        channel: 'sms',
        messageSid: result.messageSid,
        from: CUSTOMER,
        to: SENDER,
        body: 'Hello from a phone',
        numSegments: 1,
      },
    });
    expect(await env.published(env.topics.consent)).toBe(0);
  });

  it('keeps the three media of an MMS and the messaging service', async () => {
    const env = await webhooks.start();
    const result = await env.sim.sendInbound({
      from: CUSTOMER,
      to: SERVICE_SENDER,
      body: 'pictures',
      mediaUrls: [
        'https://media.example.com/a.jpg',
        'https://media.example.com/b.png',
        'https://media.example.com/c.gif',
      ],
    });
    expect(result.statusCodes).toEqual([200]);
    const { events } = await env.envelopes(env.topics.inbound, 1);
    const event = byType(events, 'sms.inbound.received')[0]!;
    expect(event.data.channel).toBe('mms');
    expect(event.tenant.messagingServiceSid).toBe(MG);
    expect(event.data.media).toEqual([
      { url: 'https://media.example.com/a.jpg', contentType: 'image/jpeg' },
      { url: 'https://media.example.com/b.png', contentType: 'image/png' },
      { url: 'https://media.example.com/c.gif', contentType: 'image/gif' },
    ]);
  });

  it('turns STOP and START into consent changes on the compacted topic, and HELP into none', async () => {
    const env = await webhooks.start();
    const stop = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'STOP' });
    const start = await env.sim.sendInbound({ from: CUSTOMER, to: SERVICE_SENDER, body: ' start ' });
    const help = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'help' });
    for (const r of [stop, start, help]) expect(r.statusCodes).toEqual([200]);

    const inbound = await env.envelopes(env.topics.inbound, 3);
    expect(
      byType(inbound.events, 'sms.inbound.received')
        .map((e) => e.data.optOutType)
        .sort(),
    ).toEqual(['HELP', 'START', 'STOP']);
    const consent = await env.envelopes(env.topics.consent, 2);
    const changes = byType(consent.events, 'sms.consent.changed');
    const stopEvent = changes.find((e) => e.data.action === 'opt_out')!;
    const startEvent = changes.find((e) => e.data.action === 'opt_in')!;
    expect(stopEvent.data).toMatchObject({
      phoneNumber: CUSTOMER,
      scope: { kind: 'sender', sender: SENDER },
      keyword: 'STOP',
      messageSid: stop.messageSid,
    });
    expect(startEvent.data).toMatchObject({
      scope: { kind: 'messaging_service', messagingServiceSid: MG },
      keyword: 'START',
      via: 'opt_out_type',
    });
    const keys = consent.records.map((r) => r.key).sort();
    expect(keys).toEqual([
      `${stop.params.AccountSid}|ms:${MG}|${CUSTOMER}`,
      `${stop.params.AccountSid}|sender:${SENDER}|${CUSTOMER}`,
    ]);
  });

  it('publishes a redelivery of the same signed webhook only once', async () => {
    const env = await webhooks.start();
    const first = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'only once' });
    expect(first.statusCodes).toEqual([200]);
    const replay = await redeliver(first.webhook!);
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe(EMPTY_TWIML);
    await env.envelopes(env.topics.inbound, 1);
  });

  it('publishes once when Twilio retries while the first attempt is still waiting for Kafka', async () => {
    let delayed = false;
    const env = await webhooks.start({
      publisher: (config): ManagedPublisher => {
        // The first publish is held past the simulator's read timeout, so it retries meanwhile.
        const inner = createEventPublisher(config, { logger: silentLogger });
        return {
          start: () => inner.start(),
          stop: () => inner.stop(),
          isReady: () => inner.isReady(),
          publishRaw: (r) => inner.publishRaw(r),
          publish: async (e) => {
            if (!delayed) {
              delayed = true;
              await new Promise((r) => setTimeout(r, 700));
            }
            return inner.publish(e);
          },
        };
      },
    });
    const result = await env.sim.sendInbound({
      from: CUSTOMER,
      to: SENDER,
      body: 'slow ack',
      webhookUrl: `${env.baseUrl}${SMS_PATH}#rt=300&rc=3&rp=rt`,
    });
    expect(result.delivered).toBe(true);
    expect(result.attempts).toBeGreaterThan(1);
    await env.envelopes(env.topics.inbound, 1);
  });

  it('validates a subaccount with its own token and refuses a forged signature with 403', async () => {
    // The simulator signs the subaccount's webhooks with a token that is not the one the service holds for it.
    const env = await webhooks.start({
      sim: {
        accounts: [
          { accountSid: ACCOUNT, authToken: TOKEN },
          { accountSid: SUBACCOUNT, authToken: 'not-the-subaccount-token' },
        ],
      },
    });
    // The file's service counts the failures of every test.
    const failuresBefore = await metric(env, 'twilio_webhook_signature_failures_total');
    const forged = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'x', accountSid: SUBACCOUNT });
    expect(forged.statusCodes).toEqual([403]);
    const good = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'y' });
    expect(good.statusCodes).toEqual([200]);
    await env.envelopes(env.topics.inbound, 1);
    expect(await metric(env, 'twilio_webhook_signature_failures_total')).toBe(failuresBefore + 1);
  });

  it('answers 400 naming a missing parameter and publishes nothing', async () => {
    const env = await webhooks.start();
    const result = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'x', extraParams: { From: '' } });
    expect(result.statusCodes).toEqual([400]);
    expect(JSON.parse(result.webhook!.responseBody!)).toEqual({
      error: 'invalid_payload',
      reason: 'missing parameter From',
    });
    expect(await env.published(env.topics.inbound)).toBe(0);
  });

  it('answers 413 to a body over HTTP_BODY_LIMIT_BYTES and publishes nothing', async () => {
    const env = await webhooks.start({ env: { HTTP_BODY_LIMIT_BYTES: '2048' } });
    const result = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'long '.repeat(600) });
    expect(result.statusCodes).toEqual([413]);
    expect(await env.published(env.topics.inbound)).toBe(0);
  });
});

async function metric(env: WebhookEnv, name: string) {
  const all = (await env.metrics.registry.getMetricsAsJSON()) as { name: string; values: { value: number }[] }[];
  return (all.find((m) => m.name === name)?.values ?? []).reduce((s, v) => s + v.value, 0);
}
