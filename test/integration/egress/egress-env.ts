import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../../../src/config';
import { SmsEnvelopeBuilder, type EventOf, type InternalEventV2 } from '../../../src/envelope';
import { createEventPublisher } from '../../../src/kafka/create-event-publisher';
import type { EgressConsumer } from '../../../src/egress/egress-consumer';
import { createMetrics, silentLogger, type Metrics } from '../../../src/observability';
import { buildServer, type IngressEgressServer, type ManagedPublisher } from '../../../src/server';
import type { TwilioSimulator, TwilioSimulatorOptions } from '@ingress-egress/twilio-simulator';
import { onCleanup } from '../../helpers/cleanup';
import { testConfig } from '../../helpers/config';
import { startEgressBed } from '../../helpers/egress-bed';
import { followTopics, readRecords, type ConsumedRecord } from '../../helpers/kafka-consumer';
import { recordCount, testBrokers, testKafka, uniqueName } from '../../helpers/kafka';

export { waitFor } from '../../helpers/wait-for';

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
  /** Default: the run's brokers; a test with a cluster of its own passes that cluster's. */
  brokers?: string[];
}

/**
 * A simulator, fresh topics (one per role plus the ledger) and a factory of
 * service instances wired as in production (buildServer) against them.
 */
export async function startEgressEnv(options: EgressEnvOptions = {}): Promise<EgressEnv> {
  const brokers = options.brokers ?? testBrokers();
  const { sim, topics, ledgerTopic, ...bed } = await startEgressBed(
    'eg',
    {
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [
        { phoneNumber: SENDER, accountSid: ACCOUNT },
        { phoneNumber: SERVICE_SENDER, accountSid: ACCOUNT, messagingServiceSid: MG },
      ],
      messagingServices: [{ sid: MG, accountSid: ACCOUNT, phoneNumbers: [SERVICE_SENDER] }],
      seed: uniqueName('egress'),
      autoProgress: false,
      ...options.sim,
    },
    brokers,
  );
  let templatesFile: string | undefined;
  if (options.templates) {
    templatesFile = path.join(tmpdir(), `${uniqueName('templates')}.json`);
    writeFileSync(templatesFile, JSON.stringify(options.templates));
  }
  const env = (overrides: Record<string, string> = {}) => ({
    ...bed.env,
    TWILIO_ENABLED: 'true',
    TWILIO_PHONE_NUMBER: SENDER,
    TWILIO_MESSAGING_SERVICE_SID: MG,
    TWILIO_TIMEOUT_SECS: '1',
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
  const reader = await followTopics([topics.outcomes, topics.egressDlq], {
    groupPrefix: 'eg-reader',
    kafka: testKafka(brokers),
  });
  const followed = new Set([topics.outcomes, topics.egressDlq]);
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
    read: async (topic, count, timeoutMs = 60_000) =>
      followed.has(topic)
        ? (await reader.until(topic, (records) => records.length >= count, timeoutMs, `${count} records`)).slice(
            0,
            count,
          )
        : count === 0
          ? []
          : readRecords({ topics: [topic], count, timeoutMs, kafka: testKafka(brokers) }),
    events: (records) => records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2),
    count: (topic) => recordCount(topic, brokers),
  };
}

/** The egress consumer of a built server (for its stats). */
export function egressConsumerOf(server: IngressEgressServer): EgressConsumer {
  return (server as unknown as { parts: { egressConsumer: EgressConsumer } }).parts.egressConsumer;
}
