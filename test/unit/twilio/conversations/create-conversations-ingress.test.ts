import Fastify from 'fastify';
import { createMetrics, silentLogger } from '../../../../src/observability';
import { createTwilioConnector } from '../../../../src/twilio/create-twilio-connector';
import { createConversationsIngress } from '../../../../src/twilio/conversations/create-conversations-ingress';
import { accountOf, testConfig } from '../../../helpers/config';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import { FakeAdapter } from './fakes';
import { FakeRest } from './rest-fakes';

const twilioEnv = {
  TWILIO_ENABLED: 'true',
  TWILIO_ACCOUNT_SID: 'AC' + '1'.repeat(32),
  TWILIO_AUTH_TOKEN: 'auth-token-0123456789',
  TWILIO_WEBHOOK_BASE_URL: 'https://sms.example.com',
};
const conversationsEnv = {
  TWILIO_CONVERSATIONS_ENABLED: 'true',
  TWILIO_API_KEY_SID: 'SK' + '2'.repeat(32),
  TWILIO_API_KEY_SECRET: 'key-secret',
  TWILIO_CONVERSATIONS_SERVICE_SID: 'IS' + '3'.repeat(32),
};

describe('Conversations wiring', () => {
  const ctx = (env: Record<string, string>) => ({
    config: testConfig(env),
    account: accountOf(testConfig(env)),
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    publisher: new MemoryPublisher(),
  });

  it('wires nothing of Conversations when TWILIO_CONVERSATIONS_ENABLED=false', async () => {
    const connector = createTwilioConnector(ctx(twilioEnv));
    expect(connector.health().details).not.toHaveProperty('conversations');
    const app = Fastify();
    await connector.registerRoutes(app);
    await app.ready();
    expect(app.hasRoute({ method: 'POST', url: '/webhooks/twilio/conversations' })).toBe(false);
    await app.close();
  });

  it('adds the session as an ingress part and the webhook route when enabled', async () => {
    const connector = createTwilioConnector(ctx({ ...twilioEnv, ...conversationsEnv }));
    expect(connector.health().details).toMatchObject({ conversations: { ready: false, state: 'idle' } });
    const app = Fastify();
    await connector.registerRoutes(app);
    await app.ready();
    expect(app.hasRoute({ method: 'POST', url: '/webhooks/twilio/conversations' })).toBe(true);
    await app.close();
  });

  it('builds the client from the configuration: identity, token TTL, socket URL', async () => {
    const adapter = new FakeAdapter();
    const c = ctx({
      ...twilioEnv,
      ...conversationsEnv,
      TWILIO_CONVERSATIONS_IDENTITY: 'sms-bridge',
      TWILIO_CONVERSATIONS_TOKEN_TTL_SECS: '600',
      TWILIO_CONVERSATIONS_SOCKET_URL: 'ws://127.0.0.1:9/v3/wsconnect',
    });
    expect(c.config.twilio.conversations).toMatchObject({
      identity: 'sms-bridge',
      tokenTtlSecs: 600,
      socketUrl: 'ws://127.0.0.1:9/v3/wsconnect',
    });
    const settings = c.config.twilio.conversations!;
    const ingress = createConversationsIngress({ ...c, settings, adapter, rest: new FakeRest() });
    const started = ingress.client.start();
    const s = adapter.last;
    const payload = JSON.parse(Buffer.from(s.tokens[0]!.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
      iat: number;
      grants: { identity: string };
    };
    expect(payload.grants.identity).toBe('sms-bridge');
    expect(payload.exp - payload.iat).toBe(600);
    s.connectAndInit();
    await started;
    await ingress.client.stop();
  });

  it('refuses a socket URL that is not ws(s) and a TTL outside 3 min to 24 h', () => {
    expect(() =>
      testConfig({ ...twilioEnv, ...conversationsEnv, TWILIO_CONVERSATIONS_SOCKET_URL: 'http://x' }),
    ).toThrow(/TWILIO_CONVERSATIONS_SOCKET_URL/);
    expect(() => testConfig({ ...twilioEnv, ...conversationsEnv, TWILIO_CONVERSATIONS_TOKEN_TTL_SECS: '60' })).toThrow(
      /TWILIO_CONVERSATIONS_TOKEN_TTL_SECS/,
    );
  });
});
