import { ACCOUNT, FROM, create, request, startSim } from './helpers';
import { WebhookReceiver } from './webhook-receiver';

/** Status progression on the simulated clock, with signed callbacks, outcome rules and callback chaos. */
describe('status progression', () => {
  const receiver = new WebhookReceiver();
  let cb: string;
  beforeAll(async () => {
    cb = `${await receiver.start()}/status`;
  });
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.reply([]);
  });

  const statuses = () => receiver.received.map((r) => r.params.MessageStatus);

  it('moves queued → sending → sent → delivered on the configured delays, and nothing happens in between', async () => {
    const { sim, clock } = await startSim({ statusDelaysMs: { sending: 100, sent: 200, delivered: 1000 } });
    const t0 = clock.now();
    const r = await create(sim.baseUrl, { To: '+15550001000', From: FROM, Body: 'hi', StatusCallback: cb });
    const sid = String(r.body.sid);
    await sim.advance(99);
    expect(sim.inspect.message(sid)?.status).toBe('queued');
    expect(receiver.received).toHaveLength(0);
    await sim.advance(1);
    expect(sim.inspect.message(sid)?.status).toBe('sending');
    await sim.advance(200);
    expect(sim.inspect.message(sid)?.status).toBe('sent');
    await sim.advance(1000);
    const view = sim.inspect.message(sid);
    expect(view?.status).toBe('delivered');
    expect(view?.history.map((h) => [h.status, h.at.getTime() - t0])).toEqual([
      ['queued', 0],
      ['sending', 100],
      ['sent', 300],
      ['delivered', 1300],
    ]);
    expect(statuses()).toEqual(['sending', 'sent', 'delivered']);
    const fetched = await request(sim.baseUrl, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Messages/${sid}.json`);
    expect(fetched.body.date_sent).toBe(new Date(t0 + 300).toUTCString().replace('GMT', '+0000'));
  });

  it('brings messages without a StatusCallback up to date whenever they are read (no timers)', async () => {
    const { sim, clock } = await startSim({ statusDelaysMs: { sending: 100, sent: 200, delivered: 1000 } });
    const t0 = clock.now();
    const sid = String((await create(sim.baseUrl, { To: '+15550001002', From: FROM, Body: 'lazy' })).body.sid);
    expect(clock.pending).toBe(0);
    const item = `/2010-04-01/Accounts/${ACCOUNT}/Messages/${sid}.json`;
    await sim.advance(150);
    expect((await request(sim.baseUrl, 'GET', item)).body.status).toBe('sending');
    await sim.advance(150);
    expect(sim.inspect.sent()[0]?.status).toBe('sent');
    const listed = await request(
      sim.baseUrl,
      'GET',
      `/2010-04-01/Accounts/${ACCOUNT}/Messages.json?DateSent%3E=2020-01-01`,
    );
    expect(listed.body.messages).toMatchObject([{ sid, status: 'sent' }]);
    await sim.settle();
    expect(clock.now()).toBe(t0 + 1300);
    expect(sim.inspect.message(sid)?.history.map((h) => [h.status, h.at.getTime() - t0])).toEqual([
      ['queued', 0],
      ['sending', 100],
      ['sent', 300],
      ['delivered', 1300],
    ]);
  });

  it('goes through accepted → queued for messaging-service messages', async () => {
    const { sim } = await startSim();
    const mg = 'MG' + 'c'.repeat(32);
    await create(sim.baseUrl, { To: '+15550001001', MessagingServiceSid: mg, Body: 'hi', StatusCallback: cb });
    await sim.settle();
    expect(statuses()).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(receiver.received[0]?.params.MessagingServiceSid).toBe(mg);
  });

  it('ends per-recipient rules as undelivered or failed with ErrorCode', async () => {
    const { sim } = await startSim({
      outcomes: [
        { to: '+15550002000', status: 'undelivered', errorCode: 30005 },
        { to: '^\\+4420', status: 'failed', errorCode: 30006 },
      ],
    });
    await create(sim.baseUrl, { To: '+15550002000', From: FROM, Body: 'a', StatusCallback: cb });
    await create(sim.baseUrl, { To: '+442071234567', From: FROM, Body: 'b', StatusCallback: cb });
    await sim.settle();
    const byTo = (to: string) => receiver.received.filter((r) => r.params.To === to).map((r) => r.params);
    expect(byTo('+15550002000').map((p) => p.MessageStatus)).toEqual(['sending', 'sent', 'undelivered']);
    expect(byTo('+15550002000').at(-1)).toMatchObject({ ErrorCode: '30005' });
    expect(byTo('+15550002000').at(-1)?.RawDlrDoneDate).toMatch(/^\d{10}$/);
    expect(byTo('+442071234567').map((p) => p.MessageStatus)).toEqual(['sending', 'failed']);
    expect(byTo('+442071234567').at(-1)).toMatchObject({ ErrorCode: '30006' });
    expect(byTo('+442071234567')[0]?.ErrorCode).toBeUndefined();
    const failed = sim.inspect.sent({ to: '+442071234567' })[0];
    expect(failed).toMatchObject({ status: 'failed', errorCode: 30006 });
  });

  it('draws probabilistic outcomes from the seed: same seed, same outcomes', async () => {
    const run = async () => {
      const { sim } = await startSim({
        seed: 99,
        outcomes: [{ probability: 0.3, status: 'undelivered', errorCode: 30003 }],
      });
      for (let i = 0; i < 40; i++) await create(sim.baseUrl, { To: `+1555000${3000 + i}`, From: FROM, Body: 'x' });
      await sim.settle();
      return sim.inspect.sent().map((m) => m.status);
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const undelivered = a.filter((s) => s === 'undelivered').length;
    expect(undelivered).toBeGreaterThan(3);
    expect(undelivered).toBeLessThan(25);
  });

  it('per-number outcomes added at run time win over configured rules', async () => {
    const { sim } = await startSim({ outcomes: [{ status: 'undelivered' }] });
    sim.faults.outcome('+15550004000', { status: 'delivered' });
    await create(sim.baseUrl, { To: '+15550004000', From: FROM, Body: 'x' });
    await create(sim.baseUrl, { To: '+15550004001', From: FROM, Body: 'x' });
    await sim.settle();
    expect(sim.inspect.sent().map((m) => m.status)).toEqual(['delivered', 'undelivered']);
  });

  it('fails a message that waited longer than its ValidityPeriod with 30036', async () => {
    const { sim } = await startSim({ statusDelaysMs: { sending: 5000 } });
    await create(sim.baseUrl, { To: '+15550005000', From: FROM, Body: 'x', ValidityPeriod: '2', StatusCallback: cb });
    await sim.settle();
    expect(sim.inspect.sent()[0]).toMatchObject({ status: 'failed', errorCode: 30036 });
    expect(receiver.received.map((r) => [r.params.MessageStatus, r.params.ErrorCode])).toEqual([['failed', '30036']]);
  });

  it('sends a scheduled message at SendAt', async () => {
    const { sim, clock } = await startSim();
    const sendAt = clock.now() + 20 * 60_000;
    await create(sim.baseUrl, {
      To: '+15550006000',
      MessagingServiceSid: 'MG' + 'c'.repeat(32),
      Body: 'later',
      ScheduleType: 'fixed',
      SendAt: new Date(sendAt).toISOString(),
    });
    await sim.advance(20 * 60_000 - 1);
    expect(sim.inspect.sent()[0]?.status).toBe('scheduled');
    await sim.advance(1);
    expect(sim.inspect.sent()[0]?.status).toBe('queued');
  });

  it('with autoProgress off, messages wait for step() or setStatus()', async () => {
    const { sim } = await startSim({ autoProgress: false });
    const r = await create(sim.baseUrl, { To: '+15550007000', From: FROM, Body: 'x', StatusCallback: cb });
    const sid = String(r.body.sid);
    await sim.advance(60_000);
    expect(sim.inspect.message(sid)?.status).toBe('queued');
    expect(sim.step(sid)).toBe('sending');
    sim.setStatus(sid, 'read');
    await sim.idle();
    expect(statuses()).toEqual(['sending', 'read']);
  });

  it('duplicates callbacks with the same idempotency token when asked', async () => {
    const { sim } = await startSim({ callbacks: { duplicateProbability: 1 } });
    await create(sim.baseUrl, { To: '+15550008000', From: FROM, Body: 'x', StatusCallback: cb });
    await sim.settle();
    expect(statuses()).toEqual(['sending', 'sending', 'sent', 'sent', 'delivered', 'delivered']);
    const tokens = receiver.received.map((r) => r.headers['i-twilio-idempotency-token']);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[1]).not.toBe(tokens[2]);
  });

  it('sends callbacks out of order when asked, never losing one', async () => {
    const { sim } = await startSim({ callbacks: { outOfOrderProbability: 1 } });
    await create(sim.baseUrl, { To: '+15550009000', From: FROM, Body: 'x', StatusCallback: cb });
    await sim.settle();
    // 'sending' is held until 'sent' went out; 'sent' is held until the final one.
    expect(statuses()).toEqual(['sent', 'sending', 'delivered']);
    sim.faults.callbacks({});
  });

  it('keeps sending callbacks when the callback URL fails, and logs each delivery', async () => {
    const { sim } = await startSim();
    receiver.reply([500, 500, 500]);
    await create(sim.baseUrl, { To: '+15550009100', From: FROM, Body: 'x', StatusCallback: cb });
    await sim.settle();
    const deliveries = sim.inspect.statusCallbacks();
    expect(deliveries.map((d) => [d.params.MessageStatus, d.delivered, d.status])).toEqual([
      ['sending', false, 500],
      ['sent', false, 500],
      ['delivered', false, 500],
    ]);
  });
});
