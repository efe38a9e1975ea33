import type { InternalEventV2 } from '../../../src/envelope';
import { createMetrics } from '../../../src/observability';
import type { ConversationsSimulator } from '@ingress-egress/twilio-simulator';
import type { TwilioSmsIngressClient } from '../../../src/twilio/conversations/twilio-sms-ingress-client';
import { MemoryPublisher } from '../../helpers/memory-publisher';
import {
  CUSTOMER,
  eventually,
  IDENTITY,
  ingressClient,
  memoryLogger,
  startSimulator,
  useProcessRejectionGuard,
} from './harness';

/**
 * Acceptance of issue 6 against the real, exactly pinned SDK: the simulator
 * plays Twilio, the MemoryPublisher plays Kafka (it validates envelopes like
 * the real publisher; test/integration/conversations reads real topics back).
 */
const inbound = (p: MemoryPublisher) =>
  p.events.filter(
    (e): e is Extract<InternalEventV2, { type: 'sms.inbound.received' }> => e.type === 'sms.inbound.received',
  );
const bodies = (p: MemoryPublisher) => inbound(p).map((e) => e.data.body);

jest.setTimeout(30_000);

describe('TwilioSmsIngressClient with @twilio/conversations 3.0.1 against the simulator', () => {
  const processGuard = useProcessRejectionGuard();
  let sim: ConversationsSimulator;
  let publisher: MemoryPublisher;
  const clients: TwilioSmsIngressClient[] = [];

  const start = async (extra: Parameters<typeof ingressClient>[2] = {}) => {
    const c = ingressClient(sim, publisher, extra);
    clients.push(c);
    await c.start();
    return c;
  };

  beforeEach(async () => {
    sim = await startSimulator();
    publisher = new MemoryPublisher();
    await publisher.start();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await sim.stop();
  });

  const conversationWithCustomer = () => {
    const c = sim.createConversation({ friendlyName: 'customer' });
    sim.addSmsParticipant(c.sid, CUSTOMER, '+15559990000');
    sim.joinIdentity(c.sid, IDENTITY);
    return c;
  };

  it('a message added while connected reaches the publisher once, and becomes the read horizon', async () => {
    const conv = conversationWithCustomer();
    const client = await start();
    expect(client.health()).toMatchObject({ ready: true, state: 'connected' });
    await eventually(() => client.checkpoints()[conv.sid] !== undefined, 5000, 'conversation joined');
    const m = sim.addMessage(conv.sid, CUSTOMER, 'Hi, is my order shipped?');
    await eventually(() => inbound(publisher).length === 1, 5000, 'message published');
    await client.settled();
    const e = inbound(publisher)[0]!;
    expect(e).toMatchObject({
      type: 'sms.inbound.received',
      subject: conv.sid,
      data: {
        channel: 'conversations',
        conversationSid: conv.sid,
        messageSid: m.sid,
        conversationIndex: 0,
        from: CUSTOMER,
        body: 'Hi, is my order shipped?',
      },
    });
    await eventually(
      () => sim.backend.participant(conv.sid, IDENTITY).lastReadMessageIndex === 0,
      5000,
      'read horizon',
    );
    // Our own reply comes back over the socket and is not ingested.
    sim.addMessage(conv.sid, IDENTITY, 'Yes, yesterday.');
    sim.addMessage(conv.sid, CUSTOMER, 'Thanks');
    await eventually(() => client.checkpoints()[conv.sid] === 2, 5000, 'checkpoint 2');
    expect(bodies(publisher)).toEqual(['Hi, is my order shipped?', 'Thanks']);
  });

  it('backfills what was sent before it joined, and messages added while it was down, once each', async () => {
    const conv = conversationWithCustomer();
    sim.addMessage(conv.sid, CUSTOMER, 'before join 0');
    sim.addMessage(conv.sid, CUSTOMER, 'before join 1');
    const first = await start();
    await eventually(() => first.checkpoints()[conv.sid] === 1, 5000, 'initial backfill');
    sim.addMessage(conv.sid, CUSTOMER, 'live 2');
    await eventually(() => first.checkpoints()[conv.sid] === 2, 5000, 'live message');
    await first.stop();
    expect(sim.backend.participant(conv.sid, IDENTITY).lastReadMessageIndex).toBe(2);

    sim.addMessage(conv.sid, CUSTOMER, 'while down 3');
    sim.addMessage(conv.sid, CUSTOMER, 'while down 4');
    const second = await start();
    await eventually(() => second.checkpoints()[conv.sid] === 4, 5000, 'restart backfill');
    sim.addMessage(conv.sid, CUSTOMER, 'after restart 5');
    await eventually(() => second.checkpoints()[conv.sid] === 5, 5000, 'live after restart');
    expect(bodies(publisher)).toEqual([
      'before join 0',
      'before join 1',
      'live 2',
      'while down 3',
      'while down 4',
      'after restart 5',
    ]);
    expect(new Set(inbound(publisher).map((e) => e.id)).size).toBe(6);
  });

  it('a dropped socket recovers, and what was added meanwhile arrives once', async () => {
    const conv = conversationWithCustomer();
    const metrics = createMetrics({ defaultMetrics: false });
    const client = await start({ metrics });
    await eventually(() => client.checkpoints()[conv.sid] !== undefined, 5000, 'joined');
    sim.addMessage(conv.sid, CUSTOMER, 'before drop');
    await eventually(() => inbound(publisher).length === 1);
    sim.dropConnections();
    sim.addMessage(conv.sid, CUSTOMER, 'during drop 1');
    sim.addMessage(conv.sid, CUSTOMER, 'during drop 2');
    await eventually(() => client.state === 'connected' && inbound(publisher).length === 3, 10_000, 'recovery');
    sim.addMessage(conv.sid, CUSTOMER, 'after drop');
    await eventually(() => inbound(publisher).length === 4, 5000, 'live after recovery');
    await client.settled();
    expect(bodies(publisher)).toEqual(['before drop', 'during drop 1', 'during drop 2', 'after drop']);
    expect((await metrics.conversationsReconnects.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it('an expiring token is refreshed without losing messages (warning, then a 410 expiry)', async () => {
    const conv = conversationWithCustomer();
    const metrics = createMetrics({ defaultMetrics: false });
    const client = await start({ metrics });
    await eventually(() => client.checkpoints()[conv.sid] !== undefined, 5000, 'joined');
    const session = sim.sessions[0]!;
    sim.warnTokensAboutToExpire();
    await eventually(() => session.received.includes('update'), 5000, 'token update after the warning');
    sim.addMessage(conv.sid, CUSTOMER, 'after refresh');
    sim.expireTokens();
    sim.addMessage(conv.sid, CUSTOMER, 'while expired');
    // The SDK waits up to 3 s for the closed socket before it takes the new token.
    await eventually(
      () => inbound(publisher).length === 2 && client.state === 'connected',
      15_000,
      'reconnect with a new token',
    );
    sim.addMessage(conv.sid, CUSTOMER, 'after expiry');
    await eventually(() => inbound(publisher).length === 3, 5000, 'live after expiry');
    expect(bodies(publisher)).toEqual(['after refresh', 'while expired', 'after expiry']);
    expect((await metrics.conversationsTokenRefreshes.get()).values[0]?.value).toBeGreaterThanOrEqual(2);
  });

  it('a denied token shows as not ready, with one clear log line', async () => {
    sim.denyIdentity(IDENTITY);
    const { logger, lines } = memoryLogger();
    const client = await start({ logger });
    expect(client.health()).toMatchObject({ ready: false, state: 'denied' });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ httpStatusCode: 401, errorCode: 20101 });
    expect(errors[0]!.msg).toMatch(/denied the access token/);
    // Once the key works again, the retry gets in.
    sim.allowIdentity(IDENTITY);
    await eventually(() => client.state === 'connected', 5000, 'recovery after denial');
    expect(client.health().ready).toBe(true);
  });

  it('survives an SDK-internal request failure nobody awaits', async () => {
    const conv = conversationWithCustomer();
    sim.addMessage(conv.sid, CUSTOMER, 'kept');
    // When a joined conversation subscribes its streams, the SDK re-throws a
    // failed roster fetch from a promise it never awaits.
    sim.failRequests(new RegExp(`^/v3/Maps/${conv.roster.sid}/Items$`), 500, 1);
    const swallowedBefore = processGuard.guard().swallowed;
    const client = await start();
    await eventually(() => bodies(publisher).includes('kept'), 10_000, 'message despite the failed fetch');
    await eventually(() => processGuard.guard().swallowed > swallowedBefore, 5000, 'the SDK rejection');
    expect(client.state).toBe('connected');
    expect(processGuard.lines.some((l) => /nobody awaited/.test(l.msg) && l.level === 40)).toBe(true);
    sim.addMessage(conv.sid, CUSTOMER, 'still flowing');
    await eventually(() => bodies(publisher).includes('still flowing'), 5000, 'later message');
  });

  it('stop() leaves the session closed and nothing running', async () => {
    conversationWithCustomer();
    const client = await start();
    await client.stop();
    expect(client.state).toBe('stopped');
    await eventually(() => sim.sessions.length === 0, 5000, 'socket closed');
    expect(sim.sessions[0]?.received ?? []).toEqual([]);
  });
});
