import twilio from 'twilio';
import { ManualClock, TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { createSimulatorTwilioClient } from '../../helpers/simulator-client';
import { createTwilioRestClient } from '../../../src/twilio/rest/rest-client';
import { explain, validators } from './twilio-openapi';

/**
 * The official twilio SDK (autoRetry off, pointed at the simulator by the
 * service's own client factory) creates, fetches, lists across pages and
 * cancels messages; every body it receives validates against Twilio's OpenAPI
 * description, error bodies against Twilio's error shape.
 */
const ACCOUNT = 'AC' + '1'.repeat(32);
const TOKEN = 'contract-auth-token';
const KEY = { sid: 'SK' + '2'.repeat(32), secret: 'contract-key-secret' };
const SERVICE = 'MG' + '3'.repeat(32);
const FROM = '+15005550006';
const OTHER_FROM = '+15017122661';

interface Captured {
  method: string;
  uri: string;
  statusCode: number;
  body: unknown;
}

/** Records every response the SDK's HTTP client hands to the SDK. */
function capture(client: twilio.Twilio, into: Captured[]): void {
  const http = client.httpClient;
  const original = http.request.bind(http);
  http.request = (async (opts: Parameters<typeof original>[0]) => {
    const r = await original(opts);
    into.push({ method: opts.method, uri: opts.uri, statusCode: r.statusCode, body: r.body });
    return r;
  }) as typeof http.request;
}

function restError(err: unknown): twilio.RestException {
  expect(err).toBeInstanceOf(twilio.RestException);
  return err as twilio.RestException;
}

async function expectRestError(p: Promise<unknown>, status: number, code: number): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  const rest = restError(err);
  expect(rest.status).toBe(status);
  expect(rest.code).toBe(code);
  expect(rest.moreInfo).toBe(`https://www.twilio.com/docs/errors/${code}`);
}

describe('twilio SDK against the simulator', () => {
  let sim: TwilioSimulator;
  let clock: ManualClock;
  let client: twilio.Twilio;
  const captured: Captured[] = [];

  beforeAll(async () => {
    clock = new ManualClock(Date.UTC(2024, 4, 24, 17, 44, 46));
    sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN, apiKeys: [KEY] }],
      clock,
      seed: 'contract',
      phoneNumbers: [{ phoneNumber: FROM }, { phoneNumber: OTHER_FROM }],
      messagingServices: [{ sid: SERVICE, phoneNumbers: [FROM] }],
    });
    await sim.start();
    client = createSimulatorTwilioClient(sim, { timeoutMs: 5000 });
    capture(client, captured);
  });

  afterEach(() => sim.reset());

  afterAll(() => sim.stop());

  it('creates a message and answers with the Message resource', async () => {
    const m = await client.messages.create({ to: '+15558675310', from: FROM, body: 'Hello! 👍' });
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(m.status).toBe('queued');
    expect(m.direction).toBe('outbound-api');
    expect(m.numSegments).toBe('1');
    expect(m.numMedia).toBe('0');
    expect(m.dateCreated.toISOString()).toBe('2024-05-24T17:44:46.000Z');
    expect(m.dateSent).toBeNull();
    expect(m.accountSid).toBe(ACCOUNT);
    expect(m.subresourceUris).toEqual({
      media: `/2010-04-01/Accounts/${ACCOUNT}/Messages/${m.sid}/Media.json`,
      feedback: `/2010-04-01/Accounts/${ACCOUNT}/Messages/${m.sid}/Feedback.json`,
    });
    const raw = captured[captured.length - 1]!;
    expect(raw.statusCode).toBe(201);
    expect(validators.strictMessage(raw.body)).toBe(true);
  });

  it('creates an MMS (MM… SID, num_media) and a long message (segments)', async () => {
    const mms = await client.messages.create({
      to: '+15558675310',
      from: FROM,
      mediaUrl: ['https://demo.twilio.com/owl.png', 'https://demo.twilio.com/logo.jpg'],
    });
    expect(mms.sid).toMatch(/^MM/);
    expect(mms.numMedia).toBe('2');
    const long = await client.messages.create({ to: '+15558675310', from: FROM, body: 'x'.repeat(161) });
    expect(long.numSegments).toBe('2');
  });

  it('accepts via a messaging service, then picks the sender and delivers', async () => {
    const m = await client.messages.create({ to: '+15558675310', messagingServiceSid: SERVICE, body: 'via service' });
    expect(m.status).toBe('accepted');
    expect(m.from).toBeNull();
    expect(m.numSegments).toBe('0');
    expect(m.messagingServiceSid).toBe(SERVICE);
    await sim.settle();
    const fetched = await client.messages(m.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.from).toBe(FROM);
    expect(fetched.numSegments).toBe('1');
    expect(fetched.dateSent).toBeInstanceOf(Date);
    expect(fetched.price).toBe('-0.00790');
  });

  it('fetches a message by SID, and answers 404 (20404) for an unknown one', async () => {
    const m = await client.messages.create({ to: '+15558675310', from: FROM, body: 'fetch me' });
    const f = await client.messages(m.sid).fetch();
    expect(f.toJSON()).toEqual(m.toJSON());
    await expectRestError(client.messages('SM' + 'f'.repeat(32)).fetch(), 404, 20404);
  });

  it('lists across pages with next_page_uri, newest first', async () => {
    const to = '+15558675311';
    const bodies = Array.from({ length: 7 }, (_, i) => `page test ${i}`);
    for (const body of bodies) await client.messages.create({ to, from: FROM, body });
    await client.messages.create({ to: '+15558675399', from: FROM, body: 'someone else' });
    const before = captured.length;
    const all = await client.messages.list({ to, pageSize: 3 });
    expect(all.map((m) => m.body)).toEqual([...bodies].reverse());
    // Three GETs: the SDK followed next_page_uri twice.
    expect(captured.slice(before).filter((c) => c.method === 'get')).toHaveLength(3);

    const page1 = await client.messages.page({ to, pageSize: 3 });
    expect(page1.instances).toHaveLength(3);
    const page2 = await page1.nextPage();
    expect(page2?.instances.map((m) => m.body)).toEqual(['page test 3', 'page test 2', 'page test 1']);
    const page3 = await page2?.nextPage();
    expect(page3?.instances.map((m) => m.body)).toEqual(['page test 0']);
    expect(page3?.nextPage()).toBeUndefined();
    const back = await page3?.previousPage();
    expect(back?.instances.map((m) => m.body)).toEqual(['page test 3', 'page test 2', 'page test 1']);
  });

  it('filters by From and by DateSent, DateSent< and DateSent>', async () => {
    const to = '+15558675312';
    await client.messages.create({ to, from: FROM, body: 'day one' });
    await sim.settle();
    clock.setTime(Date.UTC(2024, 4, 26, 12, 0, 0));
    await client.messages.create({ to, from: OTHER_FROM, body: 'day three' });
    await sim.settle();
    const fromOther = await client.messages.list({ to, from: OTHER_FROM });
    expect(fromOther.map((m) => m.body)).toEqual(['day three']);
    const after = await client.messages.list({ to, dateSentAfter: new Date(Date.UTC(2024, 4, 25)) });
    expect(after.map((m) => m.body)).toEqual(['day three']);
    const before = await client.messages.list({ to, dateSentBefore: new Date(Date.UTC(2024, 4, 25)) });
    expect(before.map((m) => m.body)).toEqual(['day one']);
    const on = await client.messages.list({ to, dateSent: new Date(Date.UTC(2024, 4, 26, 8)) });
    expect(on.map((m) => m.body)).toEqual(['day three']);
  });

  it('cancels a scheduled message; anything else answers 30409', async () => {
    const sendAt = new Date(clock.now() + 60 * 60 * 1000);
    const scheduled = await client.messages.create({
      to: '+15558675313',
      messagingServiceSid: SERVICE,
      body: 'later',
      scheduleType: 'fixed',
      sendAt,
    });
    expect(scheduled.status).toBe('scheduled');
    const canceled = await client.messages(scheduled.sid).update({ status: 'canceled' });
    expect(canceled.status).toBe('canceled');
    await expectRestError(client.messages(scheduled.sid).update({ status: 'canceled' }), 400, 30409);
    const queued = await client.messages.create({ to: '+15558675313', from: FROM, body: 'now' });
    await expectRestError(client.messages(queued.sid).update({ status: 'canceled' }), 400, 30409);
    // A canceled message is never sent.
    await sim.settle();
    expect((await client.messages(scheduled.sid).fetch()).status).toBe('canceled');
  });

  it('rejects scheduling outside 15 minutes to 35 days with 35114', async () => {
    await expectRestError(
      client.messages.create({
        to: '+15558675313',
        messagingServiceSid: SERVICE,
        body: 'too soon',
        scheduleType: 'fixed',
        sendAt: new Date(clock.now() + 60_000),
      }),
      400,
      35114,
    );
  });

  it('deletes a message; it is then gone from the API', async () => {
    const m = await client.messages.create({ to: '+15558675314', from: FROM, body: 'bye' });
    expect(await client.messages(m.sid).remove()).toBe(true);
    await expectRestError(client.messages(m.sid).fetch(), 404, 20404);
  });

  it.each([
    ['an invalid To with 21211', { to: '12345', from: FROM, body: 'x' }, 400, 21211],
    ['a From the account does not own with 21606', { to: '+15558675315', from: '+15550000000', body: 'x' }, 400, 21606],
    ['a body over 1600 characters with 21617', { to: '+15558675315', from: FROM, body: 'y'.repeat(1601) }, 400, 21617],
    ['neither body nor media with 21602', { to: '+15558675315', from: FROM }, 400, 21602],
    ["Twilio's magic unreachable number with 21612", { to: '+15005550002', from: FROM, body: 'x' }, 400, 21612],
  ])('answers %s', async (_name, params, status, code) => {
    await expectRestError(client.messages.create(params), status, code);
  });

  it('refuses recipients who texted STOP (21610) until they text START', async () => {
    const phone = '+15558675316';
    await sim.sendInbound({ from: phone, to: FROM, body: 'stop' });
    await expectRestError(client.messages.create({ to: phone, from: FROM, body: 'promo' }), 400, 21610);
    await sim.sendInbound({ from: phone, to: FROM, body: 'START' });
    await expect(client.messages.create({ to: phone, from: FROM, body: 'welcome back' })).resolves.toBeDefined();
  });

  it('authenticates with an API key and refuses bad credentials with 401 (20003)', async () => {
    const common = { accountSid: ACCOUNT, apiBaseUrl: sim.baseUrl, timeoutMs: 5000 };
    const withKey = createTwilioRestClient({ ...common, apiKeySid: KEY.sid, apiKeySecret: KEY.secret });
    capture(withKey, captured);
    await expect(withKey.messages.create({ to: '+15558675317', from: FROM, body: 'key' })).resolves.toBeDefined();
    const wrong = createTwilioRestClient({ ...common, authToken: 'not-the-token' });
    capture(wrong, captured);
    await expectRestError(wrong.messages.list({ limit: 1 }), 401, 20003);
    const wrongKey = createTwilioRestClient({ ...common, apiKeySid: KEY.sid, apiKeySecret: 'nope' });
    capture(wrongKey, captured);
    await expectRestError(wrongKey.messages.create({ to: '+15558675317', from: FROM, body: 'x' }), 401, 20003);
  });

  it('surfaces an injected 429 once (autoRetry is off) with code 20429', async () => {
    sim.faults.rateLimit({ times: 1, retryAfterSeconds: 2 });
    const before = captured.length;
    await expectRestError(client.messages.create({ to: '+15558675318', from: FROM, body: 'x' }), 429, 20429);
    expect(captured.length - before).toBe(1);
    expect(sim.inspect.sent()).toHaveLength(0);
  });

  // Runs last (jest keeps declaration order): checks what every test above received.
  it("answered every request with a body that validates against Twilio's OpenAPI description", () => {
    expect(captured.length).toBeGreaterThan(30);
    const kinds = new Set<string>();
    for (const c of captured) {
      if (c.statusCode === 204) continue;
      const isList = c.method === 'get' && /\/Messages\.json(\?|$)/.test(c.uri);
      const kind = c.statusCode >= 400 ? 'error' : isList ? 'list' : 'message';
      kinds.add(kind);
      const v =
        kind === 'error' ? validators.error : kind === 'list' ? validators.strictList : validators.strictMessage;
      if (!v(c.body)) throw new Error(`${c.method} ${c.uri} → ${c.statusCode}: ${explain(v)}`);
    }
    expect([...kinds].sort()).toEqual(['error', 'list', 'message']);
  });
});
