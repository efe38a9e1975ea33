import type { AppConfig, TopicNames } from '../../../../src/config';
import type { InternalEventV2 } from '../../../../src/envelope';
import { createEventPublisher } from '../../../../src/kafka/create-event-publisher';
import { createKafka } from '../../../../src/kafka/create-kafka';
import { freePort } from '@ingress-egress/sandbox';
import { createMetrics, silentLogger, type Metrics } from '../../../../src/observability';
import { buildServer, type IngressEgressServer, type ManagedPublisher } from '../../../../src/server';
import { TwilioSimulator, type TwilioSimulatorOptions, type WebhookDelivery } from '@ingress-egress/twilio-simulator';
import { onCleanup } from '../../../helpers/cleanup';
import { testConfig } from '../../../helpers/config';
import { followTopics, readRecords, type ConsumedRecord, type TopicFollower } from '../../../helpers/kafka-consumer';
import {
  createTestTopics,
  highWatermarks,
  recordCount,
  testBrokers,
  testKafka,
  topicEnv,
  uniqueName,
} from '../../../helpers/kafka';

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

type Envelopes = { records: ConsumedRecord[]; events: InternalEventV2[] };

export interface WebhookEnv {
  server: IngressEgressServer;
  sim: TwilioSimulator;
  config: AppConfig;
  metrics: Metrics;
  /** `http://127.0.0.1:<port>`: the URL Twilio (the simulator) calls and signs. */
  baseUrl: string;
  topics: TopicNames;
  /**
   * The decoded envelopes this test published on one topic: waits for
   * `count`, then checks the topic received no more.
   */
  envelopes(topic: string, count: number): Promise<Envelopes>;
  /** How many records the topic received since this test began (from the broker's high watermarks). */
  published(topic: string): Promise<number>;
}

export interface WebhookEnvOptions {
  /** Service variables; a test that sets any gets a service of its own. */
  env?: Record<string, string>;
  /** Builds the publisher (default: the service's EventPublisher with quick failure detection); a service of its own. */
  publisher?: (config: AppConfig) => ManagedPublisher;
  sim?: Partial<TwilioSimulatorOptions>;
}

type Service = Pick<WebhookEnv, 'server' | 'config' | 'metrics' | 'baseUrl'>;

/**
 * For the tests of one file (call it in `describe`): fresh topics, one
 * service (as deployed, listening on 127.0.0.1) and one reader of the
 * topics, started in beforeAll and stopped after the file. Every new service
 * and every new reader costs a consumer group's first join, ~3 s on the mock
 * broker; sharing them costs it once a file.
 *
 * `start()` gives each test a fresh simulator whose numbers' webhooks point
 * at the service, stopped after the test. Tests run one after another, so
 * what a topic received since the test began is what the test published.
 */
export function useWebhookEnv(): { start(options?: WebhookEnvOptions): Promise<WebhookEnv> } {
  let file: { topics: TopicNames; service: Service; reader: TopicFollower } | undefined;
  let testStart = new Map<string, Map<number, bigint>>();
  beforeAll(async () => {
    const topics = await createTestTopics('wh');
    const [service, reader] = await Promise.all([
      startService(topics, testBrokers()),
      followTopics([topics.inbound, topics.status, topics.consent], { groupPrefix: 'wh-reader' }),
    ]);
    file = { topics, service, reader };
  });
  beforeEach(async () => {
    const { topics } = file!;
    const followed = [topics.inbound, topics.status, topics.consent];
    testStart = new Map(await Promise.all(followed.map(async (t) => [t, await highWatermarks(t)] as const)));
  });

  const startOf = (topic: string) => {
    const from = testStart.get(topic);
    if (!from) throw new Error(`${topic} is not one of the topics the webhook tests read`);
    return from;
  };
  const publishedUpTo = (from: Map<number, bigint>, to: Map<number, bigint>) => {
    let received = 0n;
    for (const [partition, high] of to) received += high - (from.get(partition) ?? 0n);
    return Number(received);
  };
  const published = async (topic: string) => publishedUpTo(startOf(topic), await highWatermarks(topic));
  const envelopes = async (topic: string, count: number): Promise<Envelopes> => {
    const from = startOf(topic);
    const { reader } = file!;
    const since = (r: ConsumedRecord) => BigInt(r.offset) >= (from.get(r.partition) ?? 0n);
    await reader.until(topic, (all) => all.filter(since).length >= count, 30_000, `${count} records of this test`);
    // Reading `count` proves they arrived; the high watermarks prove nothing else did.
    const to = await highWatermarks(topic);
    expect(publishedUpTo(from, to)).toBe(count);
    const mine = (r: ConsumedRecord) => since(r) && BigInt(r.offset) < (to.get(r.partition) ?? 0n);
    const all = await reader.until(topic, (records) => records.filter(mine).length >= count);
    return decoded(all.filter(mine));
  };

  return {
    start: async (options = {}) => {
      const { topics } = file!;
      // The file's service, unless the test changes it: then one of its own, on the file's topics.
      const service =
        options.env || options.publisher ? await startService(topics, testBrokers(), options) : file!.service;
      const sim = await startSimulator(service.baseUrl, options.sim);
      return { ...service, sim, topics, envelopes, published };
    },
  };
}

/**
 * One test's service and simulator on `brokers`, with topics of its own; each
 * read-back joins a fresh consumer group. For a test that restarts its
 * broker, which a reader kept for the file would not survive.
 */
export async function startWebhookEnvOn(brokers: string[], options: WebhookEnvOptions = {}): Promise<WebhookEnv> {
  const topics = await createTestTopics('wh', brokers);
  const service = await startService(topics, brokers, options);
  const sim = await startSimulator(service.baseUrl, options.sim);
  const envelopes = async (topic: string, count: number) => {
    const records = count === 0 ? [] : await readRecords({ topics: [topic], count, kafka: testKafka(brokers) });
    // Reading `count` proves they arrived; the high watermarks prove nothing else did.
    expect(await recordCount(topic, brokers)).toBe(count);
    return decoded(records);
  };
  return { ...service, sim, topics, envelopes, published: (topic) => recordCount(topic, brokers) };
}

/** Twilio's retry of a webhook: the same URL, parameters, signature and idempotency token. */
export function redeliver(d: WebhookDelivery): Promise<Response> {
  return fetch(d.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': d.signature,
      'i-twilio-idempotency-token': d.idempotencyToken,
    },
    body: new URLSearchParams(d.params).toString(),
  });
}

function decoded(records: ConsumedRecord[]): Envelopes {
  // Per partition in offset order, so one key's records (one message's statuses) keep publish order.
  const sorted = [...records].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  return { records: sorted, events: sorted.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2) };
}

/** The service as deployed, listening on 127.0.0.1; stopped after the test (or the file, from beforeAll). */
async function startService(topics: TopicNames, brokers: string[], options: WebhookEnvOptions = {}): Promise<Service> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = testConfig({
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    KAFKA_BROKERS: brokers.join(','),
    // The egress consumer's group: a fresh one per service, or each start waits out the previous member's session.
    KAFKA_GROUP_ID: uniqueName('wh-group'),
    ...topicEnv(topics),
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_SUBACCOUNT_AUTH_TOKENS: `${SUBACCOUNT}:${SUB_TOKEN}`,
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
  return { server, config, metrics, baseUrl };
}

/** A simulator whose numbers' webhooks point at `baseUrl`; stopped after the test. */
async function startSimulator(
  baseUrl: string,
  options: Partial<TwilioSimulatorOptions> = {},
): Promise<TwilioSimulator> {
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
    // Unique, so a service shared by several tests never takes one test's messages for another's redeliveries.
    seed: uniqueName('webhooks'),
    ...options,
  });
  onCleanup(() => sim.stop());
  await sim.start();
  return sim;
}
