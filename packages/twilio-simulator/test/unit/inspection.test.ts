import { ACCOUNT, FROM, MESSAGES, create, request, startSim } from './helpers';
import { WebhookReceiver } from './webhook-receiver';

/** The inspection API, in process and over HTTP under /__sim/. */
describe('inspection', () => {
  it('tells what was sent, to whom, and how many times the same (to, body) was sent', async () => {
    const { sim } = await startSim();
    await create(sim.baseUrl, { To: '+15550500000', From: FROM, Body: 'hello' });
    await create(sim.baseUrl, { To: '+15550500000', From: FROM, Body: 'hello' });
    await create(sim.baseUrl, { To: '+15550500000', From: FROM, Body: 'hello' });
    await create(sim.baseUrl, { To: '+15550500001', From: FROM, Body: 'hello' });
    await create(sim.baseUrl, { To: 'bad', From: FROM, Body: 'hello' });
    await sim.sendInbound({ from: '+15550500000', to: FROM, body: 'hello' });
    expect(sim.inspect.sent()).toHaveLength(4);
    expect(sim.inspect.sentTo('+15550500000').map((m) => m.body)).toEqual(['hello', 'hello', 'hello']);
    expect(sim.inspect.recipients()).toEqual(['+15550500000', '+15550500001']);
    expect(sim.inspect.timesSent('+15550500000', 'hello')).toBe(3);
    expect(sim.inspect.timesSent('+15550500000', 'other')).toBe(0);
    expect(sim.inspect.duplicates()).toEqual([{ to: '+15550500000', body: 'hello', count: 3 }]);
    expect(sim.inspect.duplicateCount()).toBe(2);
    expect(sim.inspect.messages({ direction: 'inbound' })).toHaveLength(1);
    const stats = sim.inspect.stats();
    expect(stats).toMatchObject({
      messages: 5,
      outbound: 4,
      outboundCreated: 4,
      inbound: 1,
      duplicates: 2,
      requests: 5,
      rejectedByCode: { 21211: 1 },
      byStatus: { queued: 4, received: 1 },
      evicted: 0,
    });
    expect(sim.inspect.requests({ status: 400 })).toMatchObject([{ operation: 'create', errorCode: 21211, to: 'bad' }]);
  });

  it("logs a list's To filter, so who asked about a recipient shows beside the creates to it", async () => {
    const { sim } = await startSim();
    await create(sim.baseUrl, { To: '+15550500003', From: FROM, Body: 'x' });
    await request(sim.baseUrl, 'GET', `${MESSAGES}?To=${encodeURIComponent('+15550500003')}`);
    await request(sim.baseUrl, 'GET', MESSAGES);
    expect(sim.inspect.requests().map((r) => [r.operation, r.to])).toEqual([
      ['create', '+15550500003'],
      ['list', '+15550500003'],
      ['list', undefined],
    ]);
  });

  it('hands out copies: changing them changes nothing', async () => {
    const { sim } = await startSim();
    const sid = String((await create(sim.baseUrl, { To: '+15550500002', From: FROM, Body: 'x' })).body.sid);
    const view = sim.inspect.message(sid)!;
    view.body = 'changed';
    view.history.length = 0;
    expect(sim.inspect.message(sid)?.body).toBe('x');
    expect(sim.inspect.message(sid)?.history).toHaveLength(1);
  });

  it('reset() clears messages, counters, logs, faults, outcomes and opt-outs', async () => {
    const { sim } = await startSim();
    await create(sim.baseUrl, { To: '+15550500003', From: FROM, Body: 'x' });
    await create(sim.baseUrl, { To: '+15550500003', From: FROM, Body: 'x' });
    sim.faults.serverError();
    sim.optOuts.add('+15550500004');
    sim.reset();
    expect(sim.inspect.stats()).toMatchObject({ messages: 0, duplicates: 0, requests: 0 });
    expect(sim.inspect.optOuts()).toEqual([]);
    expect(sim.faults.list()).toEqual([]);
    expect((await create(sim.baseUrl, { To: '+15550500004', From: FROM, Body: 'x' })).status).toBe(201);
  });
});

describe('HTTP control API (/__sim)', () => {
  const receiver = new WebhookReceiver();
  let hook: string;
  beforeAll(async () => {
    hook = `${await receiver.start()}/sms`;
  });
  afterAll(() => receiver.stop());

  async function call(base: string, method: string, path: string, body?: unknown) {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  it('inspects messages, stats and duplicates', async () => {
    const { sim } = await startSim();
    await create(sim.baseUrl, { To: '+15550600000', From: FROM, Body: 'a' });
    await create(sim.baseUrl, { To: '+15550600000', From: FROM, Body: 'a' });
    const list = await call(sim.baseUrl, 'GET', '/__sim/messages?to=%2B15550600000');
    expect(list.body.messages).toHaveLength(2);
    const sid = (list.body.messages as { sid: string }[])[0]!.sid;
    expect((await call(sim.baseUrl, 'GET', `/__sim/messages/${sid}`)).body.sid).toBe(sid);
    expect((await call(sim.baseUrl, 'GET', '/__sim/messages/SMnope')).status).toBe(404);
    expect((await call(sim.baseUrl, 'GET', '/__sim/stats')).body).toMatchObject({ outbound: 2, duplicates: 1 });
    expect((await call(sim.baseUrl, 'GET', '/__sim/duplicates')).body).toEqual({
      count: 1,
      duplicates: [{ to: '+15550600000', body: 'a', count: 2 }],
    });
    expect((await call(sim.baseUrl, 'GET', '/__sim/requests')).body.requests).toHaveLength(2);
    expect((await call(sim.baseUrl, 'GET', '/__sim/health')).body).toEqual({ status: 'ok', state: 'running' });
  });

  it('drives faults, outcomes, callbacks, opt-outs, inbound texts, time and reset', async () => {
    const { sim, clock } = await startSim();
    const fault = await call(sim.baseUrl, 'POST', '/__sim/faults', { kind: 'rate-limit', times: 1 });
    expect(fault.status).toBe(201);
    expect((await call(sim.baseUrl, 'GET', '/__sim/faults')).body.faults).toHaveLength(1);
    expect((await create(sim.baseUrl, { To: '+15550600001', From: FROM, Body: 'x' })).status).toBe(429);
    const id = (await call(sim.baseUrl, 'POST', '/__sim/faults', { kind: 'hang' })).body.id as string;
    expect((await call(sim.baseUrl, 'DELETE', `/__sim/faults/${id}`)).status).toBe(200);
    expect((await call(sim.baseUrl, 'DELETE', `/__sim/faults/${id}`)).status).toBe(404);
    expect((await call(sim.baseUrl, 'POST', '/__sim/faults', { kind: 'latency' })).status).toBe(400);

    await call(sim.baseUrl, 'POST', '/__sim/outcomes', { to: '+15550600002', status: 'failed', errorCode: 30007 });
    await call(sim.baseUrl, 'POST', '/__sim/callbacks', { duplicateProbability: 0 });
    const sid = String((await create(sim.baseUrl, { To: '+15550600002', From: FROM, Body: 'x' })).body.sid);
    const t0 = clock.now();
    const advanced = await call(sim.baseUrl, 'POST', '/__sim/advance', { ms: 10_000 });
    expect(advanced.body.now).toBe(new Date(t0 + 10_000).toISOString());
    expect(sim.inspect.message(sid)).toMatchObject({ status: 'failed', errorCode: 30007 });
    const forced = await call(sim.baseUrl, 'POST', `/__sim/messages/${sid}/status`, { status: 'read' });
    expect(forced.body.status).toBe('read');

    await call(sim.baseUrl, 'POST', '/__sim/opt-outs', { phone: '+15550600003' });
    expect((await create(sim.baseUrl, { To: '+15550600003', From: FROM, Body: 'x' })).body.code).toBe(21610);
    expect((await call(sim.baseUrl, 'GET', '/__sim/opt-outs')).body.optOuts).toEqual([
      { accountSid: ACCOUNT, phone: '+15550600003', scope: '*' },
    ]);
    await call(sim.baseUrl, 'DELETE', '/__sim/opt-outs');

    const inbound = await call(sim.baseUrl, 'POST', '/__sim/inbound', {
      from: '+15550600004',
      to: FROM,
      body: 'Hi',
      webhookUrl: hook,
    });
    expect(inbound.body).toMatchObject({ delivered: true, statusCodes: [200], attempts: 1 });
    expect((await call(sim.baseUrl, 'GET', '/__sim/webhooks?kind=inbound')).body.webhooks).toHaveLength(1);
    expect((await call(sim.baseUrl, 'POST', '/__sim/inbound', { from: 'x' })).status).toBe(400);

    expect((await call(sim.baseUrl, 'POST', '/__sim/reset')).body).toEqual({ ok: true });
    expect((await request(sim.baseUrl, 'GET', MESSAGES)).body.messages).toEqual([]);
    expect((await call(sim.baseUrl, 'GET', '/__sim/nothing')).status).toBe(404);
    expect((await call(sim.baseUrl, 'GET', '/__sim/recording')).body).toEqual({ interactions: [] });
  });
});
