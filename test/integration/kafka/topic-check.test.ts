import { ConfigResourceTypes } from 'kafkajs';
import { silentLogger } from '../../../src/observability';
import { buildServer } from '../../../src/server';
import { onCleanup } from '../../helpers/cleanup';
import { testConfig, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../../helpers/config';
import { testKafka, uniqueName } from '../../helpers/kafka';
import { apacheKafkaBrokers } from '../../helpers/kafka-cluster';

jest.setTimeout(90_000);

/** The topic variables of one service, each naming a topic nobody created. */
function freshTopicEnv(): Record<string, string> {
  return {
    KAFKA_TOPIC_INBOUND: uniqueName('tc-inbound'),
    KAFKA_TOPIC_STATUS: uniqueName('tc-status'),
    KAFKA_TOPIC_CONSENT: uniqueName('tc-consent'),
    KAFKA_TOPIC_EGRESS: uniqueName('tc-egress'),
    KAFKA_TOPIC_EGRESS_URGENT: uniqueName('tc-egress-urgent'),
    KAFKA_TOPIC_EGRESS_BULK: uniqueName('tc-egress-bulk'),
    KAFKA_TOPIC_OUTCOMES: uniqueName('tc-outcomes'),
    KAFKA_TOPIC_EGRESS_DLQ: uniqueName('tc-dlq'),
    KAFKA_TOPIC_EGRESS_LEDGER: uniqueName('tc-ledger'),
    KAFKA_TOPIC_VOICE_CALLS: uniqueName('tc-voice-calls'),
    KAFKA_TOPIC_VOICE_RECORDINGS: uniqueName('tc-voice-recordings'),
  };
}

function service(brokers: string[], env: Record<string, string>) {
  const config = testConfig({
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_GROUP_ID: uniqueName('tc-group'),
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_WEBHOOK_VALIDATION: 'false',
    TWILIO_PHONE_NUMBER: '+14155550100',
    ...env,
  });
  const server = buildServer(config, { logger: silentLogger });
  onCleanup(() => server.stop());
  return server;
}

async function dropTopics(brokers: string[], topics: string[]): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const ours = topics.filter((t) => existing.has(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  } finally {
    await admin.disconnect();
  }
}

// Apache Kafka with topic auto-creation off, as production clusters run.
describe('the start-up topic check on Apache Kafka', () => {
  it('refuses to start while a topic is missing, naming each one with its variable, and creates nothing', async () => {
    const brokers = await apacheKafkaBrokers();
    const env = freshTopicEnv();
    const err = await service(brokers, env)
      .start()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IE_KAFKA_TOPIC_MISSING', retriable: false });
    for (const [name, topic] of Object.entries(env)) expect((err as Error).message).toContain(`${topic} (${name})`);
    const admin = testKafka(brokers).admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    await admin.disconnect();
    expect(Object.values(env).filter((t) => existing.has(t))).toEqual([]);
  });

  it('with KAFKA_CREATE_TOPICS=true creates every topic with the configs production needs, then starts', async () => {
    const brokers = await apacheKafkaBrokers();
    const env = freshTopicEnv();
    onCleanup(() => dropTopics(brokers, Object.values(env)));
    const server = service(brokers, { ...env, KAFKA_CREATE_TOPICS: 'true', KAFKA_CREATE_TOPICS_PARTITIONS: '3' });
    await server.start();
    expect(server.health().kafka).toBe(true);

    const admin = testKafka(brokers).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: Object.values(env) });
      expect(meta.topics.map((t) => t.partitions.length)).toEqual(Object.values(env).map(() => 3));
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: Object.values(env).map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['cleanup.policy', 'retention.ms'],
        })),
      });
      const policy = Object.fromEntries(
        resources.map((r) => [
          r.resourceName,
          r.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue,
        ]),
      );
      expect(policy[env.KAFKA_TOPIC_CONSENT!]).toBe('compact');
      expect(policy[env.KAFKA_TOPIC_EGRESS_LEDGER!]).toBe('compact,delete');
      expect(policy[env.KAFKA_TOPIC_INBOUND!]).toBe('delete');
      const ledger = resources.find((r) => r.resourceName === env.KAFKA_TOPIC_EGRESS_LEDGER);
      expect(ledger?.configEntries.find((c) => c.configName === 'retention.ms')?.configValue).toBe('604800000');
    } finally {
      await admin.disconnect();
    }

    // A second instance finds them all and starts without creating anything.
    const second = service(brokers, env);
    await second.start();
    expect(second.health().kafka).toBe(true);
  });
});
