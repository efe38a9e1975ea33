import type { InternalEventV2 } from '../../../src/envelope';
import { createEventPublisher } from '../../../src/kafka/create-event-publisher';
import { createKafka } from '../../../src/kafka/create-kafka';
import { freePort } from '@ingress-egress/sandbox';
import { createMetrics, silentLogger } from '../../../src/observability';
import { buildServer, type IngressEgressServer } from '../../../src/server';
import { ConversationsSimulator } from '@ingress-egress/twilio-simulator';
import { onCleanup } from '../../helpers/cleanup';
import { testConfig } from '../../helpers/config';
import { readRecords } from '../../helpers/kafka-consumer';
import { createTestTopics, recordCount, testBrokers, testKafka, topicEnv, uniqueName } from '../../helpers/kafka';
import { waitFor } from '../../helpers/wait-for';

/**
 * The service as deployed (buildServer, the real EventPublisher on the test
 * broker, TWILIO_CONVERSATIONS_ENABLED=true) against the Conversations
 * simulator driven by the real SDK: what reaches the topic, and how often.
 */
jest.setTimeout(60_000);

const ACCOUNT = 'AC' + 'd4'.repeat(16);
const AUTH_TOKEN = 'conversations-integration-token';
const KEY_SID = 'SK' + 'e5'.repeat(16);
const KEY_SECRET = 'conversations-integration-key-secret';
const SERVICE = 'IS' + 'f6'.repeat(16);
const IDENTITY = 'ingress-egress';
const CUSTOMER = '+14155550142';

describe('Conversations ingress → Kafka (service, real broker, real SDK, simulator)', () => {
  it('publishes a message added while connected once, and after a restart exactly what it missed', async () => {
    const sim = new ConversationsSimulator({
      accountSid: ACCOUNT,
      serviceSid: SERVICE,
      apiKeys: { [KEY_SID]: KEY_SECRET },
      restCredentials: { [KEY_SID]: KEY_SECRET },
      tokenTimers: false,
    });
    onCleanup(() => sim.stop());
    await sim.start();
    const topics = await createTestTopics('conv');
    const inbound = topics.inbound;
    const port = await freePort();
    const config = testConfig({
      HTTP_PORT: String(port),
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_GROUP_ID: uniqueName('conv-group'),
      ...topicEnv(topics),
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WEBHOOK_BASE_URL: `http://127.0.0.1:${port}`,
      TWILIO_API_BASE_URL: sim.restBaseUrl,
      TWILIO_CONVERSATIONS_ENABLED: 'true',
      TWILIO_API_KEY_SID: KEY_SID,
      TWILIO_API_KEY_SECRET: KEY_SECRET,
      TWILIO_CONVERSATIONS_SERVICE_SID: SERVICE,
      TWILIO_CONVERSATIONS_IDENTITY: IDENTITY,
      TWILIO_CONVERSATIONS_SOCKET_URL: sim.socketUrl,
    });
    const startServer = async (): Promise<IngressEgressServer> => {
      const metrics = createMetrics({ defaultMetrics: false });
      const publisher = createEventPublisher(
        config,
        {
          logger: silentLogger,
          metrics,
          kafka: createKafka(config.kafka, silentLogger, { connectionTimeoutMs: 1000 }),
        },
        { publishTimeoutMs: 5000 },
      );
      const server = buildServer(config, { logger: silentLogger, metrics, publisher });
      onCleanup(() => server.stop());
      await server.start();
      return server;
    };
    const conversationsHealth = (server: IngressEgressServer) =>
      (server.health().connectors.twilio?.details as Record<string, { ready: boolean; state: string }> | undefined)
        ?.conversations;

    const conv = sim.createConversation({ friendlyName: 'integration' });
    sim.addSmsParticipant(conv.sid, CUSTOMER);
    sim.joinIdentity(conv.sid, IDENTITY);

    const first = await startServer();
    expect(conversationsHealth(first)).toMatchObject({ ready: true, state: 'connected' });
    sim.addMessage(conv.sid, CUSTOMER, 'Where is my parcel?');
    await waitFor(() => sim.backend.participant(conv.sid, IDENTITY).lastReadMessageIndex === 0, 15_000, 'checkpoint 0');
    await first.stop();

    sim.addMessage(conv.sid, CUSTOMER, 'Hello?');
    sim.addMessage(conv.sid, IDENTITY, 'Checking now.');
    sim.addMessage(conv.sid, CUSTOMER, 'Thanks!');
    const second = await startServer();
    await waitFor(() => sim.backend.participant(conv.sid, IDENTITY).lastReadMessageIndex === 3, 15_000, 'checkpoint 3');
    await second.stop();

    const records = await readRecords({ topics: [inbound], count: 3, kafka: testKafka() });
    expect(await recordCount(inbound)).toBe(3);
    const events = records
      .map((r) => ({ key: r.key, headers: r.headers, event: JSON.parse(r.value!.toString('utf8')) as InternalEventV2 }))
      .sort((a, b) => a.event.occurredAt.localeCompare(b.event.occurredAt));
    expect(events.map((e) => e.key)).toEqual([conv.sid, conv.sid, conv.sid]);
    expect(events.map((e) => (e.event.type === 'sms.inbound.received' ? e.event.data.body : ''))).toEqual([
      'Where is my parcel?',
      'Hello?',
      'Thanks!',
    ]);
    expect(events[0]!.headers).toMatchObject({ ce_type: 'sms.inbound.received', ce_subject: conv.sid });
    expect(events[0]!.event).toMatchObject({
      data: { channel: 'conversations', conversationSid: conv.sid, conversationIndex: 0, from: CUSTOMER },
    });
  });
});
