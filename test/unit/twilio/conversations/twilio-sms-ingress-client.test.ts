import { EventEmitter } from 'node:events';
import { createMetrics, type Metrics } from '../../../../src/observability';
import { SdkRejectionGuard } from '../../../../src/twilio/conversations/sdk-rejection-guard';
import { TwilioSmsIngressClient } from '../../../../src/twilio/conversations/twilio-sms-ingress-client';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import {
  ACCOUNT,
  conversationSid,
  deferred,
  FakeAdapter,
  fakeTokens,
  flush,
  IDENTITY,
  memoryLogger,
  msg,
  SERVICE,
} from './fakes';

const TTL_MS = 60 * 60_000;

async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const m = json.find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

function setup(overrides: Partial<ConstructorParameters<typeof TwilioSmsIngressClient>[0]> = {}) {
  const adapter = new FakeAdapter();
  const publisher = new MemoryPublisher();
  void publisher.start();
  const metrics = createMetrics({ defaultMetrics: false });
  const { logger, lines } = memoryLogger();
  const tokens = fakeTokens(TTL_MS);
  const processEvents = new EventEmitter();
  const closed: string[] = [];
  const client = new TwilioSmsIngressClient({
    adapter,
    tokens,
    publisher,
    accountSid: ACCOUNT,
    serviceSid: SERVICE,
    identity: IDENTITY,
    logger,
    metrics,
    rejectionGuard: new SdkRejectionGuard(logger, processEvents),
    checkpointIntervalMs: 0,
    onClosedConversation: async (sid) => void closed.push(sid),
    ...overrides,
  });
  return { adapter, publisher, metrics, lines, tokens, client, processEvents, closed };
}

async function startConnected(env: ReturnType<typeof setup>) {
  const started = env.client.start();
  env.adapter.last.connectAndInit();
  await started;
  return env.adapter.last;
}

const published = (p: MemoryPublisher) =>
  p.events.map((e) =>
    e.type === 'sms.inbound.received' ? `${e.data.conversationSid?.slice(-2)}#${e.data.conversationIndex}` : e.type,
  );

describe('TwilioSmsIngressClient', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 0, 1) }));
  afterEach(() => jest.useRealTimers());

  describe('lifecycle and health', () => {
    it('is ready once the session is initialized and connected', async () => {
      const env = setup();
      expect(env.client.health().ready).toBe(false);
      await startConnected(env);
      expect(env.client.state).toBe('connected');
      expect(env.client.health()).toMatchObject({ ready: true, state: 'connected' });
      expect(await metricValue(env.metrics, 'twilio_conversations_connection_state', { state: 'connected' })).toBe(1);
      await env.client.stop();
    });

    it('start() gives up waiting after the start timeout and reports not ready', async () => {
      const env = setup({ startTimeoutMs: 1000 });
      const started = env.client.start();
      await jest.advanceTimersByTimeAsync(1000);
      await started;
      expect(env.client.health()).toMatchObject({ ready: false, state: 'connecting' });
      await env.client.stop();
    });

    it('stop() during a start that waits for Twilio does not wait for the start timeout', async () => {
      const env = setup({ startTimeoutMs: 60_000 });
      void env.client.start();
      await env.client.stop();
      expect(env.client.state).toBe('stopped');
      expect(env.adapter.last.closed).toBe(true);
    });

    it('stays ready for a short grace while reconnecting, then not', async () => {
      const env = setup({ reconnectGraceMs: 10_000 });
      const s = await startConnected(env);
      s.listener.stateChanged('connecting');
      expect(env.client.health()).toMatchObject({ ready: true, state: 'reconnecting' });
      await jest.advanceTimersByTimeAsync(10_001);
      expect(env.client.health().ready).toBe(false);
      s.listener.stateChanged('connected');
      expect(env.client.health()).toMatchObject({ ready: true, state: 'connected' });
      expect(await metricValue(env.metrics, 'twilio_conversations_reconnects_total')).toBe(1);
      await env.client.stop();
    });

    it('stop() closes the session, removes the rejection guard and never restarts', async () => {
      const env = setup();
      const s = await startConnected(env);
      expect(env.processEvents.listenerCount('unhandledRejection')).toBe(1);
      await env.client.stop();
      await env.client.stop();
      expect(s.closed).toBe(true);
      // The guard outlives the session briefly: the SDK rejects pending requests as it shuts down.
      expect(env.processEvents.listenerCount('unhandledRejection')).toBe(1);
      await jest.advanceTimersByTimeAsync(2000);
      expect(env.processEvents.listenerCount('unhandledRejection')).toBe(0);
      expect(env.client.state).toBe('stopped');
      await expect(env.client.start()).rejects.toThrow(/cannot be started again/);
      await jest.advanceTimersByTimeAsync(TTL_MS);
      expect(env.adapter.sessions).toHaveLength(1);
    });
  });

  describe('publishing', () => {
    it('publishes a live message once as sms.inbound.received (channel conversations) and checkpoints it', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      const m = msg(1, 0, { body: 'hello' });
      env.adapter.put(m);
      s.listener.messageAdded(m);
      s.listener.messageAdded(m);
      await env.client.settled();
      await flush();
      expect(env.publisher.events).toHaveLength(1);
      const e = env.publisher.events[0]!;
      expect(e).toMatchObject({
        type: 'sms.inbound.received',
        subject: conversationSid(1),
        tenant: { accountSid: ACCOUNT },
        data: {
          channel: 'conversations',
          conversationSid: conversationSid(1),
          conversationIndex: 0,
          messageSid: m.messageSid,
          from: '+15550001111',
          body: 'hello',
        },
      });
      expect(s.horizons).toEqual([[conversationSid(1), 0]]);
      expect(await metricValue(env.metrics, 'twilio_messages_received_total', { channel: 'conversations' })).toBe(1);
      await env.client.stop();
    });

    it('skips its own replies (author = identity) but still moves the checkpoint past them', async () => {
      const env = setup({ ignoreAuthors: ['system'] });
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      s.listener.messageAdded(msg(1, 0, { author: IDENTITY }));
      s.listener.messageAdded(msg(1, 1, { author: 'system' }));
      s.listener.messageAdded(msg(1, 2));
      await env.client.settled();
      await flush();
      expect(published(env.publisher)).toEqual(['01#2']);
      expect(env.client.checkpoints()[conversationSid(1)]).toBe(2);
      await env.client.stop();
    });

    it('backfills exactly what came after the read horizon when it joins', async () => {
      const env = setup();
      for (let i = 0; i < 8; i++) env.adapter.put(msg(1, i));
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: 4, state: 'active' });
      await env.client.settled();
      await flush();
      expect(published(env.publisher)).toEqual(['01#5', '01#6', '01#7']);
      expect(s.fetches).toEqual([[conversationSid(1), 4]]);
      expect(s.horizons.at(-1)).toEqual([conversationSid(1), 7]);
      await env.client.stop();
    });

    it('backfills only the latest messages (backfillLimit) of a conversation joined for the first time', async () => {
      const env = setup({ backfillLimit: 2 });
      for (let i = 0; i < 5; i++) env.adapter.put(msg(1, i));
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#3', '01#4']);
      await env.client.stop();
    });

    it('keeps live messages that arrive during a backfill behind it, in index order, without duplicates', async () => {
      const env = setup();
      for (let i = 0; i < 3; i++) env.adapter.put(msg(1, i));
      const s = await startConnected(env);
      const gate = deferred<void>();
      s.gate = gate.promise;
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      // While the backfill waits: the SDK delivers 3 live, and replays 2.
      env.adapter.put(msg(1, 3));
      s.listener.messageAdded(msg(1, 3));
      s.listener.messageAdded(msg(1, 2));
      // A second conversationJoined (the SDK can fire it twice).
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await flush();
      expect(env.publisher.events).toHaveLength(0);
      gate.resolve();
      await env.client.settled();
      await flush();
      expect(published(env.publisher)).toEqual(['01#0', '01#1', '01#2', '01#3']);
      await env.client.stop();
    });

    it('retries a failed backfill fetch with back-off', async () => {
      const env = setup();
      env.adapter.put(msg(1, 0));
      const s = await startConnected(env);
      s.failFetches = 2;
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await jest.advanceTimersByTimeAsync(500 + 1000);
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#0']);
      expect(s.fetches).toHaveLength(3);
      await env.client.stop();
    });

    it('abandons a backfill fetch that hangs and asks again (after the timeout, or at once on reconnect)', async () => {
      const env = setup({ fetchTimeoutMs: 5000 });
      env.adapter.put(msg(1, 0));
      const s = await startConnected(env);
      s.gate = new Promise<void>(() => undefined);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      s.listener.messageAdded(msg(1, 1));
      await jest.advanceTimersByTimeAsync(4999);
      expect(env.publisher.events).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1 + 500);
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#0', '01#1']);

      // A fetch hung on a socket that closed is asked again as soon as the session reconnects.
      s.gate = new Promise<void>(() => undefined);
      env.adapter.put(msg(1, 2));
      s.listener.stateChanged('connecting');
      s.listener.stateChanged('connected');
      await flush();
      expect(s.fetches.at(-1)).toEqual([conversationSid(1), 1]);
      s.listener.stateChanged('connecting');
      s.listener.stateChanged('connected');
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#0', '01#1', '01#2']);
      await env.client.stop();
    });

    it('holds messages while Kafka is down and publishes them in order when it is back', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      env.publisher.down = true;
      s.listener.messageAdded(msg(1, 0));
      s.listener.messageAdded(msg(1, 1));
      await jest.advanceTimersByTimeAsync(1000);
      expect(env.publisher.events).toHaveLength(0);
      expect(env.client.checkpoints()[conversationSid(1)]).toBeNull();
      env.publisher.down = false;
      await jest.advanceTimersByTimeAsync(5000);
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#0', '01#1']);
      expect(env.client.checkpoints()[conversationSid(1)]).toBe(1);
      await env.client.stop();
    });

    it('stop() while Kafka is down leaves the checkpoint before the unpublished message', async () => {
      const env = setup({ stopTimeoutMs: 100 });
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      s.listener.messageAdded(msg(1, 0));
      await env.client.settled();
      env.publisher.down = true;
      s.listener.messageAdded(msg(1, 1));
      s.listener.messageAdded(msg(1, 2));
      await jest.advanceTimersByTimeAsync(300);
      const stopped = env.client.stop();
      await jest.advanceTimersByTimeAsync(500);
      await stopped;
      expect(published(env.publisher)).toEqual(['01#0']);
      expect(s.horizons).toEqual([[conversationSid(1), 0]]);
      expect(env.client.checkpoints()[conversationSid(1)]).toBe(0);
    });

    it('skips (and logs) a message that cannot become a valid envelope, without blocking the conversation', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      s.listener.messageAdded(msg(1, 0, { messageSid: 'not-a-sid' }));
      s.listener.messageAdded(msg(1, 1));
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#1']);
      expect(env.lines.some((l) => String(l.msg).includes('cannot become a valid envelope'))).toBe(true);
      expect(JSON.stringify(env.lines)).not.toContain('message 0');
      await env.client.stop();
    });

    it('publishes a message delivered by both the webhook and the socket once', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      const m = msg(1, 0);
      const viaWebhook = env.client.ingestWebhookMessage(m);
      s.listener.messageAdded(m);
      expect(await viaWebhook).toBe('published');
      await env.client.settled();
      expect(published(env.publisher)).toEqual(['01#0']);
      expect(env.client.checkpoints()[conversationSid(1)]).toBe(0);
      await env.client.stop();
    });

    it('backfills every conversation after a reconnect', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      s.listener.conversationJoined({ sid: conversationSid(2), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      s.listener.stateChanged('connecting');
      env.adapter.put(msg(1, 0));
      env.adapter.put(msg(2, 0));
      s.listener.stateChanged('connected');
      await env.client.settled();
      expect(published(env.publisher).sort()).toEqual(['01#0', '02#0']);
      await env.client.stop();
    });

    it('leaves a closed conversation once its messages are on Kafka', async () => {
      const env = setup();
      env.adapter.put(msg(1, 0));
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      s.listener.conversationUpdated({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'closed' });
      await env.client.settled();
      await flush(50);
      expect(published(env.publisher)).toEqual(['01#0']);
      expect(s.horizons).toEqual([[conversationSid(1), 0]]);
      expect(env.closed).toEqual([conversationSid(1)]);
      await env.client.stop();
    });

    it('writes a conversation checkpoint at most once per interval, the latest index, and all of them on stop', async () => {
      const env = setup({ checkpointIntervalMs: 1000 });
      const s = await startConnected(env);
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      s.listener.conversationJoined({ sid: conversationSid(2), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      for (let i = 0; i < 5; i++) s.listener.messageAdded(msg(1, i));
      await env.client.settled();
      await flush();
      expect(s.horizons).toEqual([[conversationSid(1), 0]]);
      await jest.advanceTimersByTimeAsync(1000);
      expect(s.horizons).toEqual([
        [conversationSid(1), 0],
        [conversationSid(1), 4],
      ]);
      s.listener.messageAdded(msg(1, 5));
      s.listener.messageAdded(msg(2, 0));
      s.listener.messageAdded(msg(2, 1));
      await env.client.settled();
      await flush();
      // Conversation 2 had no write yet; conversation 1 waits for its interval, which stop() does not.
      expect(s.horizons.at(-1)).toEqual([conversationSid(2), 0]);
      await env.client.stop();
      expect(s.horizons).toEqual(
        expect.arrayContaining([
          [conversationSid(1), 5],
          [conversationSid(2), 1],
        ]),
      );
    });

    it('retries a failed checkpoint write on a timer and keeps the latest index', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.failHorizons = 1;
      s.listener.conversationJoined({ sid: conversationSid(1), lastReadMessageIndex: null, state: 'active' });
      await env.client.settled();
      s.listener.messageAdded(msg(1, 0));
      await env.client.settled();
      await flush();
      expect(s.horizons).toEqual([]);
      await jest.advanceTimersByTimeAsync(5000);
      expect(s.horizons).toEqual([[conversationSid(1), 0]]);
      // A newer index rides on the pending retry: one write, of the latest.
      s.failHorizons = 1;
      s.listener.messageAdded(msg(1, 1));
      await env.client.settled();
      await flush();
      s.listener.messageAdded(msg(1, 2));
      await env.client.settled();
      await flush();
      expect(s.horizons).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(5000);
      expect(s.horizons).toEqual([
        [conversationSid(1), 0],
        [conversationSid(1), 2],
      ]);
      await env.client.stop();
    });
  });

  describe('tokens', () => {
    it('refreshes on a timer at 80% of the TTL, again and again', async () => {
      const env = setup();
      const s = await startConnected(env);
      await jest.advanceTimersByTimeAsync(TTL_MS * 0.8 - 1);
      expect(s.tokens).toEqual(['t1']);
      await jest.advanceTimersByTimeAsync(1);
      expect(s.tokens).toEqual(['t1', 't2']);
      await jest.advanceTimersByTimeAsync(TTL_MS * 0.8);
      expect(s.tokens).toEqual(['t1', 't2', 't3']);
      expect(await metricValue(env.metrics, 'twilio_conversations_token_refreshes_total')).toBe(2);
      await env.client.stop();
    });

    it('refreshes when Twilio warns (tokenAboutToExpire) and re-arms the timer from the new token', async () => {
      const env = setup();
      const s = await startConnected(env);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      s.listener.tokenAboutToExpire();
      await flush();
      expect(s.tokens).toEqual(['t1', 't2']);
      await jest.advanceTimersByTimeAsync(TTL_MS * 0.8 - 10 * 60_000);
      expect(s.tokens).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect(s.tokens).toHaveLength(3);
      await env.client.stop();
    });

    it('hands a fresh token over when the token expired, sharing one refresh between reasons', async () => {
      const env = setup();
      const s = await startConnected(env);
      const update = deferred<void>();
      s.updateTokenImpl = () => update.promise;
      s.listener.tokenExpired();
      s.listener.stateChanged('disconnecting');
      s.listener.stateChanged('disconnected');
      await flush();
      expect(s.tokens).toEqual(['t1', 't2']);
      expect(env.client.state).toBe('reconnecting');
      update.resolve();
      s.listener.stateChanged('connecting');
      s.listener.stateChanged('connected');
      await flush();
      expect(env.client.state).toBe('connected');
      expect(await metricValue(env.metrics, 'twilio_conversations_token_refreshes_total')).toBe(1);
      await env.client.stop();
    });

    it('does not let an expiry wait behind a routine refresh that hangs', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.updateTokenImpl = (t) => (t === 't2' ? new Promise<void>(() => undefined) : Promise.resolve());
      s.listener.tokenAboutToExpire();
      await flush();
      s.listener.tokenAboutToExpire();
      await flush();
      expect(s.tokens).toEqual(['t1', 't2']);
      s.listener.tokenExpired();
      await flush();
      expect(s.tokens).toEqual(['t1', 't2', 't3']);
      expect(await metricValue(env.metrics, 'twilio_conversations_token_refreshes_total')).toBe(1);
      await env.client.stop();
    });

    it('retries a failed refresh after 10 s', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.updateTokenImpl = async (t) => {
        if (t === 't2') throw new Error('socket busy');
      };
      s.listener.tokenAboutToExpire();
      await flush();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(s.tokens).toEqual(['t1', 't2', 't3']);
      expect(env.lines.some((l) => l.msg === 'Conversations token refresh failed; retrying')).toBe(true);
      await env.client.stop();
    });

    it('never logs a token', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.tokenAboutToExpire();
      await flush();
      await env.client.stop();
      const text = JSON.stringify(env.lines);
      expect(text).not.toContain('"t1"');
      expect(text).not.toContain('"t2"');
    });
  });

  describe('denied token', () => {
    it('is not ready, says why in one clear error log, and retries with a new session after back-off', async () => {
      const env = setup({ restartBackoff: { initialMs: 30_000, maxMs: 60_000 } });
      const started = env.client.start();
      const s = env.adapter.last;
      s.listener.stateChanged('connecting');
      s.listener.stateChanged('denied');
      s.listener.connectionError({
        terminal: true,
        message: 'Invalid Access Token',
        httpStatusCode: 401,
        errorCode: 20101,
      });
      s.listener.initFailed({ terminal: true, message: 'Invalid Access Token', httpStatusCode: 401, errorCode: 20101 });
      await started;
      expect(env.client.health()).toMatchObject({ ready: false, state: 'denied' });
      const errors = env.lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ httpStatusCode: 401, errorCode: 20101 });
      expect(String(errors[0]!.msg)).toMatch(/denied the access token.*TWILIO_API_KEY_SID/);
      expect(s.closed).toBe(true);
      await jest.advanceTimersByTimeAsync(30_000);
      expect(env.adapter.sessions).toHaveLength(2);
      env.adapter.last.connectAndInit();
      expect(env.client.health()).toMatchObject({ ready: true, state: 'connected' });
      await env.client.stop();
    });

    it('treats a bare denied state (no reason given) as denied after a second', async () => {
      const env = setup();
      const s = await startConnected(env);
      s.listener.stateChanged('denied');
      expect(env.client.state).toBe('denied');
      await jest.advanceTimersByTimeAsync(1000);
      expect(s.closed).toBe(true);
      expect(env.lines.filter((l) => l.level === 50)).toHaveLength(1);
      await env.client.stop();
    });

    it('restarts a session whose start-up failed for another reason', async () => {
      const env = setup({ restartBackoff: { initialMs: 1000, maxMs: 1000 } });
      const started = env.client.start();
      env.adapter.last.listener.initFailed({
        terminal: true,
        message: 'Fetch resource from "Client/v2/Configuration" failed.',
      });
      await started;
      await jest.advanceTimersByTimeAsync(1000);
      expect(env.adapter.sessions).toHaveLength(2);
      await env.client.stop();
    });
  });
});
