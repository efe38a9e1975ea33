import { OutcomeWatcher } from '../../../src/api';
import { SmsEnvelopeBuilder, type EventOf } from '../../../src/envelope';
import { silentLogger } from '../../../src/observability';
import { buildServer } from '../../../src/server';
import { testConfig, TEST_ACCOUNT_SID } from '../../helpers/config';
import { MemoryPublisher } from '../../helpers/memory-publisher';

const SEND = 'send-token-0123456789';
const READ = 'read-token-0123456789';
const auth = (t: string) => ({ authorization: `Bearer ${t}` });

async function setup() {
  const publisher = new MemoryPublisher();
  publisher.started = true;
  // An outcome source fed by hand (the real one follows sms.outcomes; see the integration test).
  const outcomes = new OutcomeWatcher({
    kafka: {} as never,
    topic: 'sms.outcomes',
    decode: async () => Promise.reject(new Error('unused')),
    logger: silentLogger,
    groupIdPrefix: 'unused',
  });
  const server = buildServer(
    testConfig({
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      API_TOKENS: `backend:send:${SEND},support:read:${READ}`,
      API_RATE_LIMIT_PER_SEC: '1000',
      API_RATE_LIMIT_BURST: '1000',
    }),
    { publisher, connectors: [], logger: silentLogger, api: { outcomes } },
  );
  await server.prepare();
  return { server, publisher, outcomes };
}

const requests = (p: MemoryPublisher) =>
  p.events.filter((e): e is EventOf<'sms.outbound.requested'> => e.type === 'sms.outbound.requested');

describe('POST /api/sms', () => {
  it('publishes sms.outbound.requested (source twilio, keyed by the recipient) and answers 202 with its id', async () => {
    const { server, publisher } = await setup();
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/sms',
      headers: auth(SEND),
      payload: { to: '+15551230001', body: 'hello', priority: 'urgent', correlationId: 'order-1' },
    });
    expect(res.statusCode).toBe(202);
    const [event] = requests(publisher);
    expect(res.json()).toEqual({ requestId: event!.id });
    expect(event).toMatchObject({
      source: 'twilio',
      subject: '+15551230001',
      correlationId: 'order-1',
      tenant: { accountSid: TEST_ACCOUNT_SID },
      data: { to: '+15551230001', body: 'hello', priority: 'urgent' },
    });
    await server.app.close();
  });

  it('answers 503 with Retry-After when Kafka does not acknowledge, and publishes nothing', async () => {
    const { server, publisher } = await setup();
    publisher.down = true;
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/sms',
      headers: auth(SEND),
      payload: { to: '+15551230001', body: 'hello' },
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ error: 'unavailable' });
    expect(requests(publisher)).toHaveLength(0);
    await server.app.close();
  });

  it.each([
    [{ to: '+15551230001' }, 'body'],
    [{ body: 'x' }, 'to'],
    [{ to: '+15551230001', body: 'x', priority: 'asap' }, 'priority'],
    [{ to: '+15551230001', body: 'x', sendAt: 'tomorrow' }, 'sendAt'],
    [{ to: '+15551230001', body: 'x', mediaUrls: Array(11).fill('https://x.test/a.png') }, 'mediaUrls'],
    [{ to: '+15551230001', body: 'x', messagingServiceSid: 'MG1' }, 'messagingServiceSid'],
    [{ to: '+15551230001', body: 'x', surprise: true }, 'surprise'],
    [{ to: '+15551230001', template: { variables: {} } }, 'template.name'],
  ])('refuses %j with 400 naming %s', async (payload, field) => {
    const { server, publisher } = await setup();
    const res = await server.app.inject({ method: 'POST', url: '/api/sms', headers: auth(SEND), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request', field });
    expect(requests(publisher)).toHaveLength(0);
    await server.app.close();
  });

  it('refuses a wait over 10 s, a read-only token and no token', async () => {
    const { server } = await setup();
    const payload = { to: '+15551230001', body: 'x' };
    const long = await server.app.inject({ method: 'POST', url: '/api/sms?wait=10001', headers: auth(SEND), payload });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ field: 'wait' });
    expect(
      (await server.app.inject({ method: 'POST', url: '/api/sms', headers: auth(READ), payload })).statusCode,
    ).toBe(403);
    expect((await server.app.inject({ method: 'POST', url: '/api/sms', payload })).statusCode).toBe(401);
    await server.app.close();
  });

  it('makes one request of the same Idempotency-Key sent 3 times, sequentially and concurrently', async () => {
    const { server, publisher } = await setup();
    const send = () =>
      server.app.inject({
        method: 'POST',
        url: '/api/sms',
        headers: { ...auth(SEND), 'idempotency-key': 'order-42' },
        payload: { to: '+15551230001', body: 'your code is 1234' },
      });
    const concurrent = await Promise.all([send(), send(), send()]);
    const again = await send();
    const ids = new Set([...concurrent, again].map((r) => (r.json() as { requestId: string }).requestId));
    expect([...concurrent, again].map((r) => r.statusCode)).toEqual([202, 202, 202, 202]);
    expect(ids.size).toBe(1);
    expect(requests(publisher)).toHaveLength(1);
    expect(requests(publisher)[0]!.id).toBe([...ids][0]);
    // The same key with another body is a conflict, not a silent replay.
    const other = await server.app.inject({
      method: 'POST',
      url: '/api/sms',
      headers: { ...auth(SEND), 'idempotency-key': 'order-42' },
      payload: { to: '+15551230001', body: 'something else' },
    });
    expect(other.statusCode).toBe(422);
    expect(requests(publisher)).toHaveLength(1);
    await server.app.close();
  });

  it('gives the same key the same request id on another instance (egress then deduplicates)', async () => {
    const a = await setup();
    const b = await setup();
    const send = (s: Awaited<ReturnType<typeof setup>>) =>
      s.server.app.inject({
        method: 'POST',
        url: '/api/sms',
        headers: { ...auth(SEND), 'idempotency-key': 'k-1' },
        payload: { to: '+15551230001', body: 'x' },
      });
    expect((await send(a)).json()).toEqual((await send(b)).json());
    await a.server.app.close();
    await b.server.app.close();
  });

  it('retries a key whose first publish failed', async () => {
    const { server, publisher } = await setup();
    const send = () =>
      server.app.inject({
        method: 'POST',
        url: '/api/sms',
        headers: { ...auth(SEND), 'idempotency-key': 'k-2' },
        payload: { to: '+15551230001', body: 'x' },
      });
    publisher.down = true;
    expect((await send()).statusCode).toBe(503);
    publisher.down = false;
    expect((await send()).statusCode).toBe(202);
    expect(requests(publisher)).toHaveLength(1);
    await server.app.close();
  });

  it('with ?wait answers the outcome when it arrives in time, else 202', async () => {
    const { server, publisher, outcomes } = await setup();
    const builder = new SmsEnvelopeBuilder();
    const pending = server.app.inject({
      method: 'POST',
      url: '/api/sms?wait=5000',
      headers: auth(SEND),
      payload: { to: '+15551230001', body: 'x' },
    });
    while (requests(publisher).length === 0) await new Promise((r) => setImmediate(r));
    const request = requests(publisher)[0]!;
    outcomes.record(
      builder.outcome(request, 'sms.outbound.accepted', {
        requestId: request.id,
        messageSid: 'SM' + 'a'.repeat(32),
        to: '+15551230001',
        status: 'queued',
        numSegments: 1,
        encoding: 'GSM-7',
        attempts: 1,
        deduplicated: false,
      }),
    );
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      requestId: request.id,
      outcome: { type: 'accepted', messageSid: 'SM' + 'a'.repeat(32) },
    });
    const late = await server.app.inject({
      method: 'POST',
      url: '/api/sms?wait=20',
      headers: auth(SEND),
      payload: { to: '+15551230002', body: 'x' },
    });
    expect(late.statusCode).toBe(202);
    // The look-up sees what this instance published and the outcomes seen.
    const state = await server.app.inject({ method: 'GET', url: `/api/requests/${request.id}`, headers: auth(READ) });
    expect(state.statusCode).toBe(200);
    expect(state.json()).toMatchObject({ published: true, outcomes: [{ type: 'accepted' }] });
    const unknown = await server.app.inject({ method: 'GET', url: '/api/requests/nope', headers: auth(READ) });
    expect(unknown.statusCode).toBe(404);
    await server.app.close();
  });
});

describe('POST /api/sms/bulk and cancel', () => {
  it('publishes one bulk request keyed by its id, and a cancel keyed like the request it cancels', async () => {
    const { server, publisher } = await setup();
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/sms/bulk',
      headers: auth(SEND),
      payload: { recipients: ['+15551230001', '+15551230002'], body: 'sale', priority: 'bulk' },
    });
    expect(res.statusCode).toBe(202);
    const { requestId } = res.json<{ requestId: string }>();
    expect(requests(publisher)[0]).toMatchObject({
      id: requestId,
      subject: requestId,
      data: { recipients: ['+15551230001', '+15551230002'], priority: 'bulk' },
    });
    const single = await server.app.inject({
      method: 'POST',
      url: '/api/sms',
      headers: auth(SEND),
      payload: { to: '+15551230003', body: 'later', sendAt: '2030-01-01T00:00:00Z' },
    });
    const singleId = single.json<{ requestId: string }>().requestId;
    const cancel = await server.app.inject({ method: 'POST', url: `/api/sms/${singleId}/cancel`, headers: auth(SEND) });
    expect(cancel.statusCode).toBe(202);
    const event = publisher.events.find((e) => e.type === 'sms.outbound.cancel_requested');
    expect(event).toMatchObject({ subject: '+15551230003', source: 'twilio', data: { requestId: singleId } });
    const empty = await server.app.inject({
      method: 'POST',
      url: '/api/sms/bulk',
      headers: auth(SEND),
      payload: { recipients: [], body: 'x' },
    });
    expect(empty.json()).toMatchObject({ field: 'recipients' });
    await server.app.close();
  });
});
