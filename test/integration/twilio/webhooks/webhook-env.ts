import type { AppConfig } from '../../../../src/config';
import type { InternalEventV2 } from '../../../../src/envelope';
import { createEventPublisher } from '../../../../src/kafka/create-event-publisher';
import { createKafka } from '../../../../src/kafka/create-kafka';
import { freePort } from '../../../../src/kafka/local-broker';
import { createMetrics, silentLogger, type Metrics } from '../../../../src/observability';
import { buildServer, type IngressEgressServer, type ManagedPublisher } from '../../../../src/server';
import { TwilioSimulator, type TwilioSimulatorOptions } from '../../../../src/simulator';
import { onCleanup } from '../../../helpers/cleanup';
import { testConfig } from '../../../helpers/config';
import { readRecords, type ConsumedRecord } from '../../../helpers/kafka-consumer';
import { testBrokers, testKafka, uniqueName } from '../../../helpers/kafka';

/** Fixtures shared by the webhook integration tests: the simulator posts, the real server publishes. */
export const ACCOUNT = 'AC' + 'a1'.repeat(16);
export const TOKEN = 'integration-auth-token-0001';
export const SUBACCOUNT = 'AC' + 'b2'.repeat(16);
export const SUB_TOKEN = 'integration-sub-token-0002';
export const SENDER = '+14155550100';
export const SERVICE_SENDER = '+14155550199';
export const MG = 'MG' + 'c3'.repeat(16);
export const CUSTOMER = '+14155550123';

export const SMS_PATH = '/webhooks/twilio/sms';
export const STATUS_PATH = '/webhooks/twilio/status';

export interface WebhookEnv {
  server: IngressEgressServer;
  sim: TwilioSimulator;
  config: AppConfig;
  metrics: Metrics;
  /** `http://127.0.0.1:<port>`: the URL Twilio (the simulator) calls and signs. */
  baseUrl: string;
  topics: AppConfig['kafka']['topics'];
  /** Decoded envelopes on one topic; waits for `count`, then checks there are no more. */
  envelopes(topic: string, count: number): Promise<{ records: ConsumedRecord[]; events: InternalEventV2[] }>;
}

export interface WebhookEnvOptions {
  brokers?: string[];
  env?: Record<string, string>;
  sim?: Partial<TwilioSimulatorOptions>;
  /** Builds the publisher (default: the service's EventPublisher with quick failure detection). */
  publisher?: (config: AppConfig) => ManagedPublisher;
  /** The subaccount token the service knows (default the simulator's; differ to forge signatures). */
  serviceSubToken?: string;
}

/**
 * The service as deployed, listening on 127.0.0.1 with a fresh topic per
 * role, and a simulator whose numbers' webhooks point at it. Both are
 * stopped after the test.
 */
export async function startWebhookEnv(options: WebhookEnvOptions = {}): Promise<WebhookEnv> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const brokers = options.brokers ?? testBrokers();
  const topics = {
    inbound: uniqueName('wh-inbound'),
    status: uniqueName('wh-status'),
    consent: uniqueName('wh-consent'),
    egress: uniqueName('wh-egress'),
    outcomes: uniqueName('wh-outcomes'),
    egressDlq: uniqueName('wh-dlq'),
  };
  const config = testConfig({
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    KAFKA_BROKERS: brokers.join(','),
    // The egress consumer's group: a fresh one per test, or each start waits out the previous member's session.
    KAFKA_GROUP_ID: uniqueName('wh-group'),
    KAFKA_TOPIC_INBOUND: topics.inbound,
    KAFKA_TOPIC_STATUS: topics.status,
    KAFKA_TOPIC_CONSENT: topics.consent,
    KAFKA_TOPIC_EGRESS: topics.egress,
    KAFKA_TOPIC_OUTCOMES: topics.outcomes,
    KAFKA_TOPIC_EGRESS_DLQ: topics.egressDlq,
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_SUBACCOUNT_AUTH_TOKENS: `${SUBACCOUNT}:${options.serviceSubToken ?? SUB_TOKEN}`,
    TWILIO_WEBHOOK_BASE_URL: baseUrl,
    ...options.env,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher =
    options.publisher?.(config) ??
    createEventPublisher(
      config,
      {
        logger: silentLogger,
        metrics,
        kafka: createKafka(config.kafka, silentLogger, {
          connectionTimeoutMs: 500,
          retry: { initialRetryTime: 50, maxRetryTime: 300, retries: 2 },
        }),
      },
      { publishTimeoutMs: 3000, sendRetries: 2, reconnectBackoffMs: { initial: 100, max: 500 } },
    );
  const server = buildServer(config, { logger: silentLogger, metrics, publisher });
  onCleanup(() => server.stop());
  await server.start();
  await server.listen();

  const smsUrl = `${baseUrl}${SMS_PATH}`;
  const sim = new TwilioSimulator({
    accounts: [
      { accountSid: ACCOUNT, authToken: TOKEN },
      { accountSid: SUBACCOUNT, authToken: SUB_TOKEN },
    ],
    phoneNumbers: [
      { phoneNumber: SENDER, accountSid: ACCOUNT, smsUrl },
      { phoneNumber: SERVICE_SENDER, accountSid: ACCOUNT, smsUrl, messagingServiceSid: MG },
    ],
    messagingServices: [{ sid: MG, accountSid: ACCOUNT, phoneNumbers: [SERVICE_SENDER] }],
    seed: 'webhooks',
    ...options.sim,
  });
  onCleanup(() => sim.stop());
  await sim.start();

  const envelopes = async (topic: string, count: number) => {
    const records = count === 0 ? [] : await readRecords({ topics: [topic], count, kafka: testKafka(brokers) });
    // Reading `count` proves they arrived; the high watermark proves nothing else did.
    expect(await highWatermarkSum(topic, brokers)).toBe(count);
    // Per partition in offset order, so one key's records (one message's statuses) keep publish order.
    records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    const events = records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2);
    return { records, events };
  };
  return { server, sim, config, metrics, baseUrl, topics, envelopes };
}

/** Records a topic ever received (0 when it was never created). */
export async function highWatermarkSum(topic: string, brokers: string[] = testBrokers()): Promise<number> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}
