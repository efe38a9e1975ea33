import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../../../src/config';
import { SmsEnvelopeBuilder, type EventOf, type InternalEventV2 } from '../../../src/envelope';
import { createEventPublisher } from '../../../src/kafka/create-event-publisher';
import type { EgressConsumer } from '../../../src/kafka/egress-consumer';
import { createMetrics, silentLogger, type Metrics } from '../../../src/observability';
import { buildServer, type IngressEgressServer, type ManagedPublisher } from '../../../src/server';
import { TwilioSimulator, type TwilioSimulatorOptions } from '../../../src/simulator';
import { headersToStrings } from '../../../src/kafka/cloud-events';
import { onCleanup } from '../../helpers/cleanup';
import { testConfig } from '../../helpers/config';
import { readRecords, type ConsumedRecord } from '../../helpers/kafka-consumer';
import { createTestTopic, createTestTopics, isMockBroker, testKafka, uniqueName } from '../../helpers/kafka';

export const ACCOUNT = 'AC' + 'e5'.repeat(16);
export const TOKEN = 'egress-integration-token-0001';
export const SENDER = '+14155550100';
export const SERVICE_SENDER = '+14155550199';
export const MG = 'MG' + 'f6'.repeat(16);

/** A distinct, valid US number per index (area code 415, 555-01xx style lines stay valid). */
export const customer = (i: number) => `+1415${String(2_000_000 + i).padStart(7, '0')}`;

export interface EgressEnv {
  config: AppConfig;
  topics: AppConfig['kafka']['topics'];
  ledgerTopic: string;
  sim: TwilioSimulator;
  /** Publishes requests to sms.egress (and anything else) through a publisher of the test's own. */
  producer: ManagedPublisher;
  builder: SmsEnvelopeBuilder;
  metrics: Metrics;
  /** Builds (and cleans up) a service instance on these topics; call start() on it. */
  service(overrides?: Record<string, string>): IngressEgressServer;
  request(
    data: EventOf<'sms.outbound.requested'>['data'],
    messagingServiceSid?: string,
  ): EventOf<'sms.outbound.requested'>;
  /**
   * The first `count` records of the outcomes or DLQ topic, from a reader
   * that joined when the environment started (a fresh group per read would
   * cost the mock broker's ~3 s join each time).
   */
  read(topic: string, count: number, timeoutMs?: number): Promise<ConsumedRecord[]>;
  events(records: ConsumedRecord[]): InternalEventV2[];
  /** Records a topic ever received. */
  count(topic: string): Promise<number>;
}

export interface EgressEnvOptions {
  env?: Record<string, string>;
  sim?: Partial<TwilioSimulatorOptions>;
  templates?: unknown[];
}

/**
 * A simulator, fresh topics (one per role plus the ledger) and a factory of
 * service instances wired as in production (buildServer) against them.
 */
export async function startEgressEnv(options: EgressEnvOptions = {}): Promise<EgressEnv> {
  const sim = new TwilioSimulator({
    accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
    phoneNumbers: [
      { phoneNumber: SENDER, accountSid: ACCOUNT },
      { phoneNumber: SERVICE_SENDER, accountSid: ACCOUNT, messagingServiceSid: MG },
    ],
    messagingServices: [{ sid: MG, accountSid: ACCOUNT, phoneNumbers: [SERVICE_SENDER] }],
    seed: uniqueName('egress'),
    autoProgress: false,
    ...options.sim,
  });
  onCleanup(() => sim.stop());
  await sim.start();
  const [topics, ledgerTopic] = await Promise.all([createTestTopics('eg'), createTestTopic('eg-ledger')]);
  let templatesFile: string | undefined;
  if (options.templates) {
    templatesFile = path.join(tmpdir(), `${uniqueName('templates')}.json`);
    writeFileSync(templatesFile, JSON.stringify(options.templates));
  }
  const groupId = uniqueName('eg-group');
  const env = (overrides: Record<string, string> = {}) => ({
    ...sim.env(),
    TWILIO_ENABLED: 'true',
    TWILIO_WEBHOOK_VALIDATION: 'false',
    TWILIO_PHONE_NUMBER: SENDER,
    TWILIO_MESSAGING_SERVICE_SID: MG,
    TWILIO_TIMEOUT_SECS: '1',
    TWILIO_RATE_LIMIT_PER_SEC: '100000',
    TWILIO_RATE_LIMIT_BURST: '100000',
    TWILIO_PER_NUMBER_RATE: '100000',
    TWILIO_PER_NUMBER_BURST: '100000',
    KAFKA_GROUP_ID: groupId,
    KAFKA_TOPIC_INBOUND: topics.inbound,
    KAFKA_TOPIC_STATUS: topics.status,
    KAFKA_TOPIC_CONSENT: topics.consent,
    KAFKA_TOPIC_EGRESS: topics.egress,
    KAFKA_TOPIC_OUTCOMES: topics.outcomes,
    KAFKA_TOPIC_EGRESS_DLQ: topics.egressDlq,
    KAFKA_TOPIC_EGRESS_LEDGER: ledgerTopic,
    // The mock delays a rebalance by about the session timeout of a member that vanished.
    EGRESS_SESSION_TIMEOUT_SECS: isMockBroker() ? '6' : '10',
    SHUTDOWN_TIMEOUT_SECS: '10',
    ...(templatesFile ? { EGRESS_TEMPLATES_FILE: templatesFile } : {}),
    ...options.env,
    ...overrides,
  });
  const config = testConfig(env());
  const metrics = createMetrics({ defaultMetrics: false });
  const producer = createEventPublisher(config, { logger: silentLogger });
  onCleanup(() => producer.stop());
  await producer.start();
  const builder = new SmsEnvelopeBuilder();
  const collected = await followTopics([topics.outcomes, topics.egressDlq]);
  return {
    config,
    topics,
    ledgerTopic,
    sim,
    producer,
    builder,
    metrics,
    service: (overrides = {}) => {
      const server = buildServer(testConfig(env(overrides)), { logger: silentLogger, metrics });
      onCleanup(() => server.stop());
      return server;
    },
    request: (data, messagingServiceSid) =>
      builder.build('sms.outbound.requested', {
        accountSid: ACCOUNT,
        messagingServiceSid,
        subject: data.to ?? data.conversationSid ?? 'bulk',
        data,
      }),
    read: (topic, count, timeoutMs = 60_000) =>
      collected.has(topic)
        ? waitForRecords(collected.get(topic)!, count, timeoutMs, topic)
        : count === 0
          ? Promise.resolve([])
          : readRecords({ topics: [topic], count, timeoutMs, kafka: testKafka() }),
    events: (records) => records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2),
    count: async (topic) => {
      const admin = testKafka().admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
        return offsets.reduce((sum, p) => sum + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Follows topics from the beginning with one consumer for the whole test; records land in per-topic arrays. */
async function followTopics(topicNames: string[]): Promise<Map<string, ConsumedRecord[]>> {
  const out = new Map(topicNames.map((t) => [t, [] as ConsumedRecord[]]));
  const consumer = testKafka().consumer({
    groupId: uniqueName('eg-reader'),
    sessionTimeout: isMockBroker() ? 6000 : 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 50,
  });
  onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: topicNames, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      out.get(topic)!.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8') ?? null,
        value: message.value,
        headers: headersToStrings(message.headers),
      });
    },
  });
  return out;
}

async function waitForRecords(records: ConsumedRecord[], count: number, timeoutMs: number, topic: string) {
  await waitFor(() => records.length >= count, timeoutMs, `${count} records on ${topic} (have ${records.length})`);
  return records.slice(0, count);
}

/** The egress consumer of a built server (for its stats). */
export function egressConsumerOf(server: IngressEgressServer): EgressConsumer {
  return (server as unknown as { parts: { egressConsumer: EgressConsumer } }).parts.egressConsumer;
}

/** Polls `check` until it is true (real time: this waits for a real broker and HTTP). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = 'condition') {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
