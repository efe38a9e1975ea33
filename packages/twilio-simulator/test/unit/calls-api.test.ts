import http from 'node:http';
import { ACCOUNT, TOKEN, basic, request, startSim } from './helpers';
import { VoiceApp } from './voice-app';

/** The Calls resource: create, fetch, list with filters and paging, update to completed, faults. */
const CALLS = `/2010-04-01/Accounts/${ACCOUNT}/Calls.json`;
const call = (sid: string) => `/2010-04-01/Accounts/${ACCOUNT}/Calls/${sid}.json`;
const FROM = '+15005550006';
const TO = '+14155550123';
const HOLD = '<Response><Say>Hello</Say><Pause length="600"/></Response>';

describe('Calls REST API', () => {
  const app = new VoiceApp(TOKEN);
  let appUrl: string;
  beforeAll(async () => {
    appUrl = await app.start();
  });
  afterAll(() => app.stop());
  beforeEach(() => app.reset());

  it('creates a queued call (201) that rings, is answered and runs its Twiml, with status callbacks for the events asked', async () => {
    const { sim } = await startSim();
    const res = await request(sim.baseUrl, 'POST', CALLS, {
      To: TO,
      From: FROM,
      Twiml: '<Response><Say>Hi</Say></Response>',
      StatusCallback: `${appUrl}/status`,
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      MachineDetection: 'Enable',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'queued',
      to: TO,
      from: FROM,
      direction: 'outbound-api',
      start_time: null,
    });
    const sid = res.body.sid as string;
    expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
    await sim.idle();
    const fetched = await request(sim.baseUrl, 'GET', call(sid));
    expect(fetched.body).toMatchObject({ sid, status: 'completed', answered_by: 'human', duration: '1' });
    expect(fetched.body.start_time).not.toBeNull();
    const statuses = app.at('/status');
    expect(statuses.map((s) => [s.params.CallStatus, s.params.SequenceNumber])).toEqual([
      ['initiated', '0'],
      ['ringing', '1'],
      ['in-progress', '2'],
      ['completed', '3'],
    ]);
    expect(statuses.every((s) => s.signed && s.params.Direction === 'outbound-api')).toBe(true);
    expect(sim.voice.callView(sid)?.verbs).toEqual(['Say']);
  });

  it('sends only the completed callback when no events are named, as Twilio does', async () => {
    const { sim } = await startSim();
    await request(sim.baseUrl, 'POST', CALLS, {
      To: TO,
      From: FROM,
      Twiml: '<Response/>',
      StatusCallback: `${appUrl}/s`,
    });
    await sim.idle();
    expect(app.at('/s').map((s) => s.params.CallStatus)).toEqual(['completed']);
  });

  it('fetches its TwiML from Url with a signed request', async () => {
    const { sim } = await startSim();
    app.on('/twiml', '<Response><Play>https://example.com/a.mp3</Play><Hangup/></Response>');
    const res = await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Url: `${appUrl}/twiml` });
    await sim.idle();
    const [hook] = app.at('/twiml');
    expect(hook).toMatchObject({
      signed: true,
      params: expect.objectContaining({ CallSid: res.body.sid, Direction: 'outbound-api', CallStatus: 'in-progress' }),
    });
    expect(sim.voice.callView(res.body.sid as string)?.verbs).toEqual(['Play', 'Hangup']);
  });

  it.each([
    [{ From: FROM, Twiml: '<Response/>' }, 21201],
    [{ To: 'nope', From: FROM, Twiml: '<Response/>' }, 21211],
    [{ To: TO, Twiml: '<Response/>' }, 21213],
    [{ To: TO, From: '123', Twiml: '<Response/>' }, 21212],
    [{ To: TO, From: FROM }, 21205],
    [{ To: TO, From: FROM, Url: 'ftp://x' }, 21205],
    [{ To: TO, From: FROM, Twiml: `<Response><Say>${'a'.repeat(4000)}</Say></Response>` }, 20001],
    [{ To: TO, From: FROM, Twiml: '<Response/>', StatusCallbackEvent: 'exploded' }, 20001],
    [{ To: TO, From: FROM, Twiml: '<Response/>', MachineDetection: 'Maybe' }, 20001],
  ])('refuses a bad create (case %#)', async (form, code) => {
    const { sim } = await startSim();
    const res = await request(sim.baseUrl, 'POST', CALLS, form as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(sim.voice.calls()).toHaveLength(0);
  });

  it('refuses a From the account does not own once numbers are configured (21210)', async () => {
    const { sim } = await startSim({ phoneNumbers: [{ phoneNumber: FROM }] });
    const res = await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: '+15005550099', Twiml: '<Response/>' });
    expect(res.body.code).toBe(21210);
  });

  it('needs Basic auth (20003)', async () => {
    const { sim } = await startSim();
    const res = await request(
      sim.baseUrl,
      'POST',
      CALLS,
      { To: TO, From: FROM, Twiml: '<Response/>' },
      { auth: basic(ACCOUNT, 'wrong') },
    );
    expect(res.status).toBe(401);
    expect(res.body.code).toBe(20003);
    expect((await request(sim.baseUrl, 'GET', CALLS, undefined, { auth: null })).status).toBe(401);
  });

  it('ends a live call with Status=completed; a second end is 21220; canceled on an answered call is 21220', async () => {
    const { sim } = await startSim();
    const res = await request(sim.baseUrl, 'POST', CALLS, {
      To: TO,
      From: FROM,
      Twiml: HOLD,
      StatusCallback: `${appUrl}/st`,
    });
    const sid = res.body.sid as string;
    await sim.idle();
    expect((await request(sim.baseUrl, 'GET', call(sid))).body.status).toBe('in-progress');
    const cancel = await request(sim.baseUrl, 'POST', call(sid), { Status: 'canceled' });
    expect(cancel.body.code).toBe(21220);
    await sim.advance(30_000);
    const end = await request(sim.baseUrl, 'POST', call(sid), { Status: 'completed' });
    expect(end.status).toBe(200);
    // Rang 2 s and said Hello (1 s) at once, then held until the end 30 s after the create.
    expect(end.body).toMatchObject({ status: 'completed', duration: '28' });
    const again = await request(sim.baseUrl, 'POST', call(sid), { Status: 'completed' });
    expect(again).toMatchObject({ status: 400, body: { code: 21220 } });
    await sim.idle();
    expect(app.at('/st').map((s) => s.params.CallStatus)).toEqual(['completed']);
    expect(sim.voice.callView(sid)?.status).toBe('completed');
  });

  it('a held call hangs up by itself when its Pause ends', async () => {
    const { sim } = await startSim();
    const res = await request(sim.baseUrl, 'POST', CALLS, {
      To: TO,
      From: FROM,
      Twiml: '<Response><Pause length="5"/></Response>',
    });
    await sim.idle();
    await sim.settle();
    expect(sim.voice.callView(res.body.sid as string)).toMatchObject({ status: 'completed', durationSecs: 5 });
  });

  it('404 for an unknown call; only Status may be updated', async () => {
    const { sim } = await startSim();
    const res = await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Twiml: HOLD });
    const sid = res.body.sid as string;
    await sim.idle();
    expect((await request(sim.baseUrl, 'GET', call('CA' + '0'.repeat(32)))).body.code).toBe(20404);
    expect((await request(sim.baseUrl, 'POST', call(sid), { Url: 'https://x' })).body.code).toBe(20001);
  });

  it('ends the way the outcome rules say: no-answer, busy, failed', async () => {
    const { sim } = await startSim({ voice: { outcomes: [{ to: '+14155550001', answer: 'no-answer' }] } });
    sim.voice.outcome({ to: '+14155550002', answer: 'busy' });
    const make = async (to: string) =>
      (await request(sim.baseUrl, 'POST', CALLS, { To: to, From: FROM, Twiml: HOLD })).body.sid as string;
    const [a, b, c] = [await make('+14155550001'), await make('+14155550002'), await make(TO)];
    await sim.idle();
    expect([a, b, c].map((s) => sim.voice.callView(s)?.status)).toEqual(['no-answer', 'busy', 'in-progress']);
    expect(sim.voice.callView(a)?.startTime).toBeNull();
  });

  it('lists newest first with To/From/Status/StartTime filters and Twilio paging', async () => {
    const { sim, clock } = await startSim();
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await request(sim.baseUrl, 'POST', CALLS, {
        To: i % 2 ? TO : '+14155550999',
        From: FROM,
        Twiml: '<Response/>',
      });
      sids.push(r.body.sid as string);
      await sim.idle();
    }
    const all = await request(sim.baseUrl, 'GET', `${CALLS}?PageSize=2`);
    const calls = all.body.calls as { sid: string }[];
    expect(calls.map((c) => c.sid)).toEqual([sids[4], sids[3]]);
    expect(all.body).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    const next = await request(sim.baseUrl, 'GET', all.body.next_page_uri as string);
    expect((next.body.calls as { sid: string }[]).map((c) => c.sid)).toEqual([sids[2], sids[1]]);
    const filtered = await request(sim.baseUrl, 'GET', `${CALLS}?To=${encodeURIComponent(TO)}&Status=completed`);
    expect((filtered.body.calls as { sid: string }[]).map((c) => c.sid)).toEqual([sids[3], sids[1]]);
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    const started = await request(
      sim.baseUrl,
      'GET',
      `${CALLS}?${encodeURIComponent('StartTime>')}=${today}&PageSize=50`,
    );
    expect((started.body.calls as unknown[]).length).toBe(5);
    const tomorrow = new Date(clock.now() + 86_400_000).toISOString().slice(0, 10);
    const none = await request(sim.baseUrl, 'GET', `${CALLS}?${encodeURIComponent('StartTime>')}=${tomorrow}`);
    expect(none.body.calls).toEqual([]);
    expect((await request(sim.baseUrl, 'GET', `${CALLS}?StartTime=yesterday`)).body.code).toBe(20001);
  });

  it('a queued call has no start time, so StartTime filters never list it', async () => {
    const { sim, clock } = await startSim({ voice: { outcomes: [{ answer: 'no-answer' }] } });
    await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Twiml: '<Response/>' });
    await sim.idle();
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    expect(
      (await request(sim.baseUrl, 'GET', `${CALLS}?${encodeURIComponent('StartTime>')}=${today}`)).body.calls,
    ).toEqual([]);
    expect((await request(sim.baseUrl, 'GET', CALLS)).body.calls).toHaveLength(1);
  });

  it('faults on Calls create like the SMS ones: 429, 5xx, a reset after creating, a fraction', async () => {
    const { sim } = await startSim();
    sim.faults.rateLimit({ match: { resource: 'calls', operation: 'create' }, times: 1, retryAfterSeconds: 2 });
    const limited = await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Twiml: '<Response/>' });
    expect(limited).toMatchObject({ status: 429, body: { code: 20429 } });
    expect(limited.headers['retry-after']).toBe('2');
    sim.faults.serverError({ match: { resource: 'calls' }, times: 1, status: 503 });
    expect((await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Twiml: '<Response/>' })).status).toBe(503);
    expect(sim.voice.calls()).toHaveLength(0);
    sim.faults.connectionReset({ match: { resource: 'calls', operation: 'create' }, times: 1 });
    await expect(request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Twiml: '<Response/>' })).rejects.toThrow();
    // The ambiguous case: the call exists though no answer came back.
    expect(sim.voice.calls()).toHaveLength(1);
    sim.faults.clear();
    sim.faults.serverError({ match: { resource: 'calls', operation: 'create' }, probability: 0.5 });
    let failed = 0;
    for (let i = 0; i < 40; i++) {
      if ((await request(sim.baseUrl, 'POST', CALLS, { To: TO, From: FROM, Twiml: '<Response/>' })).status === 500)
        failed++;
    }
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
    // A rule scoped to calls leaves messages alone.
    const msg = await request(sim.baseUrl, 'POST', `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, {
      To: TO,
      From: FROM,
      Body: 'x',
    });
    expect(msg.status).toBe(201);
    expect(sim.inspect.requests({ operation: 'create' }).some((r) => r.resource === 'calls' && r.status === 500)).toBe(
      true,
    );
  });

  it('hangs a Calls create on request (the request is never answered)', async () => {
    const { sim } = await startSim();
    sim.faults.hang({ match: { resource: 'calls' }, times: 1 });
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request(`${sim.baseUrl}${CALLS}`, {
        method: 'POST',
        agent: false,
        headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      });
      req.setTimeout(300, () => {
        req.destroy();
        resolve('timeout');
      });
      req.on('response', () => resolve('answered'));
      req.on('error', () => resolve('error'));
      req.end(new URLSearchParams({ To: TO, From: FROM, Twiml: '<Response/>' }).toString());
    });
    expect(outcome).toBe('timeout');
    expect(sim.voice.calls()).toHaveLength(1);
  });
});
