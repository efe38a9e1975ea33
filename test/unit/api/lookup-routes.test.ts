import { silentLogger } from '../../../src/observability';
import { buildServer } from '../../../src/server';
import { testConfig, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../../helpers/config';
import { MemoryPublisher } from '../../helpers/memory-publisher';

const READ = 'read-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const auth = (t: string) => ({ authorization: `Bearer ${t}` });
const NUMBER = '+15551230001';

async function setup(twilio: boolean) {
  const publisher = new MemoryPublisher();
  publisher.started = true;
  const server = buildServer(
    testConfig({
      TWILIO_ENABLED: String(twilio),
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      TWILIO_WEBHOOK_VALIDATION: 'false',
      TWILIO_PHONE_NUMBER: '+15005550006',
      API_TOKENS: `support:read:${READ},ops:admin:${ADMIN}`,
    }),
    { publisher, logger: silentLogger },
  );
  await server.prepare();
  return { server, publisher };
}

describe('consent routes', () => {
  it('publishes an operator opt-out with scope and reason (admin only)', async () => {
    const { server, publisher } = await setup(true);
    const change = { action: 'opt_out', scope: { kind: 'account' }, reason: 'customer called support' };
    const forbidden = await server.app.inject({
      method: 'POST',
      url: `/api/consent/${encodeURIComponent(NUMBER)}`,
      headers: auth(READ),
      payload: change,
    });
    expect(forbidden.statusCode).toBe(403);
    const res = await server.app.inject({
      method: 'POST',
      url: `/api/consent/${encodeURIComponent(NUMBER)}`,
      headers: auth(ADMIN),
      payload: change,
    });
    expect(res.statusCode).toBe(200);
    const event = publisher.events.find((e) => e.type === 'sms.consent.changed');
    expect(event).toMatchObject({
      id: res.json<{ eventId: string }>().eventId,
      subject: NUMBER,
      data: {
        action: 'opt_out',
        phoneNumber: NUMBER,
        scope: { kind: 'account' },
        via: 'api',
        reason: 'customer called support',
      },
    });
    const state = await server.app.inject({
      method: 'GET',
      url: `/api/consent/${encodeURIComponent(NUMBER)}`,
      headers: auth(READ),
    });
    expect(state.statusCode).toBe(200);
    // The memory publisher reports no consent topic, so the store is not updated here; the integration test reads it back.
    expect(state.json()).toEqual({ phoneNumber: NUMBER, accountSid: TEST_ACCOUNT_SID, entries: [] });
    await server.app.close();
  });

  it('refuses a bad number, a missing reason and an unknown scope with 400 naming the field', async () => {
    const { server } = await setup(true);
    const post = (num: string, payload: object) =>
      server.app.inject({
        method: 'POST',
        url: `/api/consent/${encodeURIComponent(num)}`,
        headers: auth(ADMIN),
        payload,
      });
    expect((await post('555', { action: 'opt_out', scope: { kind: 'account' }, reason: 'r' })).json()).toMatchObject({
      field: 'number',
    });
    expect((await post(NUMBER, { action: 'opt_out', scope: { kind: 'account' } })).json()).toMatchObject({
      field: 'reason',
    });
    expect((await post(NUMBER, { action: 'opt_out', scope: { kind: 'galaxy' }, reason: 'r' })).json()).toMatchObject({
      field: 'scope.kind',
    });
    await server.app.close();
  });

  it('answers 503 for look-ups when the Twilio connector is not enabled', async () => {
    const { server } = await setup(false);
    for (const url of [
      `/api/consent/${encodeURIComponent(NUMBER)}`,
      '/api/messages',
      `/api/messages/SM${'a'.repeat(32)}`,
    ]) {
      const res = await server.app.inject({ method: 'GET', url, headers: auth(READ) });
      expect(res.statusCode).toBe(503);
    }
    const bad = await server.app.inject({ method: 'GET', url: '/api/messages/XX1', headers: auth(READ) });
    expect(bad.json()).toMatchObject({ field: 'sid' });
    await server.app.close();
  });
});
