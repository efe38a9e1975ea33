import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { InternalEventV2 } from '../../../src/envelope';
import { createLogger, createMetrics } from '../../../src/observability';
import type { ConversationsSimulator } from '@ingress-egress/twilio-simulator';
import {
  createConversationsIngress,
  type ConversationsIngress,
} from '../../../src/twilio/conversations/create-conversations-ingress';
import { testConfig } from '../../helpers/config';
import { MemoryPublisher } from '../../helpers/memory-publisher';
import {
  ACCOUNT_SID,
  API_KEY_SECRET,
  API_KEY_SID,
  CUSTOMER,
  eventually,
  IDENTITY,
  SERVICE_SID,
  startSimulator,
  useProcessRejectionGuard,
} from './harness';

/**
 * The whole Conversations part as the service wires it (config → REST client
 * on the simulator, the webhook route, the SDK session): the official twilio
 * REST SDK joins and leaves through the simulator's Conversations API, and the
 * simulator delivers signed post-event webhooks to the route.
 */
jest.setTimeout(30_000);

const AUTH_TOKEN = 'contract-auth-token-0123456789';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const inbound = (p: MemoryPublisher) =>
  p.events.filter(
    (e): e is Extract<InternalEventV2, { type: 'sms.inbound.received' }> => e.type === 'sms.inbound.received',
  );

describe('Conversations membership, webhooks and replies (official SDKs against the simulator)', () => {
  useProcessRejectionGuard();
  let sim: ConversationsSimulator;
  let app: FastifyInstance;
  let publisher: MemoryPublisher;
  let ingress: ConversationsIngress;
  let metrics: ReturnType<typeof createMetrics>;

  async function boot(events: ('onConversationAdded' | 'onMessageAdded')[], limit?: number): Promise<void> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    sim = await startSimulator({
      restCredentials: { [API_KEY_SID]: API_KEY_SECRET },
      webhook: { url: `${base}/webhooks/twilio/conversations`, authToken: AUTH_TOKEN, events },
      ...(limit !== undefined ? { identityConversationLimit: limit } : {}),
    });
    const config = testConfig({
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WEBHOOK_BASE_URL: base,
      TWILIO_API_BASE_URL: sim.restBaseUrl,
      TWILIO_CONVERSATIONS_ENABLED: 'true',
      TWILIO_API_KEY_SID: API_KEY_SID,
      TWILIO_API_KEY_SECRET: API_KEY_SECRET,
      TWILIO_CONVERSATIONS_SERVICE_SID: SERVICE_SID,
      TWILIO_CONVERSATIONS_IDENTITY: IDENTITY,
      TWILIO_CONVERSATIONS_SOCKET_URL: sim.socketUrl,
    });
    publisher = new MemoryPublisher();
    await publisher.start();
    metrics = createMetrics({ defaultMetrics: false });
    ingress = createConversationsIngress({
      config,
      settings: config.twilio.conversations!,
      logger: createLogger({ level: 'silent' }),
      metrics,
      publisher,
    });
    // The simulator's webhook client keeps connections alive; close them with the app.
    app = Fastify({ forceCloseConnections: true });
    await ingress.route(app);
    await app.listen({ port, host: '127.0.0.1' });
    await ingress.client.start();
  }

  afterEach(async () => {
    await ingress.client.stop();
    await app.close();
    await sim.stop();
  });

  it('joins a conversation announced by onConversationAdded and ingests what was said before it joined', async () => {
    await boot(['onConversationAdded']);
    const conv = sim.createConversation({ friendlyName: 'new customer' });
    sim.addSmsParticipant(conv.sid, CUSTOMER);
    sim.addMessage(conv.sid, CUSTOMER, 'first text');
    await eventually(() => inbound(publisher).length === 1, 10_000, 'backfill after joining');
    expect(sim.backend.participant(conv.sid, IDENTITY)).toMatchObject({ identity: IDENTITY });
    expect(sim.restRequests).toContain(`POST /v1/Services/${SERVICE_SID}/Conversations/${conv.sid}/Participants`);
    sim.addMessage(conv.sid, CUSTOMER, 'second text');
    await eventually(() => inbound(publisher).length === 2, 5000, 'live message');
    expect(inbound(publisher).map((e) => e.data.body)).toEqual(['first text', 'second text']);
  });

  it('publishes onMessageAdded webhooks, and the same message from the socket is not published again', async () => {
    await boot(['onMessageAdded']);
    const conv = sim.createConversation();
    sim.addSmsParticipant(conv.sid, CUSTOMER);
    sim.joinIdentity(conv.sid, IDENTITY);
    await eventually(() => ingress.client.checkpoints()[conv.sid] !== undefined, 5000, 'joined');
    sim.addMessage(conv.sid, CUSTOMER, 'both ways');
    await eventually(() => ingress.client.checkpoints()[conv.sid] === 0, 5000, 'socket path');
    const answered = async () =>
      (await metrics.webhookRequests.get()).values.find(
        (v) => v.labels.route === '/webhooks/twilio/conversations' && v.labels.code === '200',
      )?.value ?? 0;
    const deadline = Date.now() + 5000;
    while ((await answered()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await answered()).toBe(1);
    expect(inbound(publisher).map((e) => e.data.body)).toEqual(['both ways']);
    expect(await metrics.duplicatesSuppressed.get()).toMatchObject({
      values: [expect.objectContaining({ value: 1, labels: { route: 'conversations' } })],
    });
  });

  it('replies into the conversation as the identity, and does not ingest its own reply', async () => {
    await boot([]);
    const conv = sim.createConversation();
    sim.addSmsParticipant(conv.sid, CUSTOMER);
    sim.joinIdentity(conv.sid, IDENTITY);
    await eventually(() => ingress.client.checkpoints()[conv.sid] !== undefined, 5000, 'joined');
    const reply = await ingress.sendConversationReply({ conversationSid: conv.sid, body: 'We are on it.' });
    expect(reply).toMatchObject({ ok: true, conversationSid: conv.sid, index: 0 });
    expect(conv.messages[0]).toMatchObject({ author: IDENTITY, body: 'We are on it.' });
    await eventually(() => ingress.client.checkpoints()[conv.sid] === 0, 5000, 'own reply seen');
    expect(inbound(publisher)).toEqual([]);
    const missing = await ingress.sendConversationReply({ conversationSid: 'CH' + '0'.repeat(32), body: 'x' });
    expect(missing).toMatchObject({ ok: false, code: 'twilio_rejected', twilioErrorCode: 20404 });
  });

  it('leaves a conversation once it is closed and its messages are published', async () => {
    await boot(['onConversationAdded']);
    const a = sim.createConversation();
    sim.addSmsParticipant(a.sid, CUSTOMER);
    await eventually(() => sim.backend.conversationsOf(IDENTITY).length === 1, 5000, 'joined');
    sim.addMessage(a.sid, CUSTOMER, 'last words');
    sim.setState(a.sid, 'closed');
    await eventually(() => sim.backend.conversationsOf(IDENTITY).length === 0, 5000, 'left the closed conversation');
    expect(inbound(publisher).map((e) => e.data.body)).toEqual(['last words']);
    expect(sim.restRequests.some((r) => r.startsWith('DELETE ') && r.includes(a.sid))).toBe(true);
  });

  it('at the per-identity limit (50214) leaves closed conversations and joins', async () => {
    await boot(['onConversationAdded'], 2);
    const a = sim.createConversation();
    const b = sim.createConversation();
    await eventually(() => sim.backend.conversationsOf(IDENTITY).length === 2, 5000, 'joined two');
    // Without a session nobody leaves them as they close: the join must make room itself.
    await ingress.client.stop();
    sim.setState(a.sid, 'closed');
    const c = sim.createConversation();
    await eventually(
      () =>
        sim.backend
          .conversationsOf(IDENTITY)
          .map((x) => x.conversation.sid)
          .sort()
          .join() === [b.sid, c.sid].sort().join(),
      5000,
      'joined c after leaving the closed a',
    );
    expect(sim.restRequests).toContain(`GET /v1/Services/${SERVICE_SID}/ParticipantConversations`);
  });
});
