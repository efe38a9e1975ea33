import { FROM, MESSAGES, create, request, startSim } from './helpers';

/** REST faults: what the client sees, and whether the message was created. */
describe('faults', () => {
  const form = { To: '+15550100000', From: FROM, Body: 'fault test' };

  it('answers 429 with code 20429 and Retry-After, for the next N requests only', async () => {
    const { sim } = await startSim();
    sim.faults.rateLimit({ times: 2, retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i++) {
      const r = await create(sim.baseUrl, form);
      expect(r.status).toBe(429);
      expect(r.headers['retry-after']).toBe('3');
      expect(r.body).toEqual({
        code: 20429,
        message: 'Too Many Requests',
        more_info: 'https://www.twilio.com/docs/errors/20429',
        status: 429,
      });
    }
    expect((await create(sim.baseUrl, form)).status).toBe(201);
    expect(sim.inspect.sent()).toHaveLength(1);
    expect(sim.faults.list()).toEqual([]);
    expect(sim.inspect.stats().rejectedByCode).toEqual({ 20429: 2 });
  });

  it.each([
    [500, 20500],
    [503, 20503],
    [502, 20500],
  ])('answers %i (code %i) and creates nothing', async (status, code) => {
    const { sim } = await startSim();
    sim.faults.serverError({ status, times: 1 });
    const r = await create(sim.baseUrl, form);
    expect(r.status).toBe(status);
    expect(r.body.code).toBe(code);
    expect(sim.inspect.sent()).toHaveLength(0);
  });

  it('answers any Twilio error for one sender only', async () => {
    const { sim } = await startSim();
    sim.faults.twilioError({ status: 400, code: 21611 }, { match: { from: FROM } });
    expect((await create(sim.baseUrl, form)).body.code).toBe(21611);
    expect((await create(sim.baseUrl, { ...form, From: '+15017122661' })).status).toBe(201);
  });

  it('matches on operation and recipient, and applies probabilities from the seed', async () => {
    const { sim } = await startSim({ seed: 5 });
    sim.faults.serverError({ match: { operation: 'create', to: '+15550100001' }, probability: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await create(sim.baseUrl, { ...form, To: '+15550100001' })).status);
    const failures = statuses.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    expect((await create(sim.baseUrl, form)).status).toBe(201);
    expect((await request(sim.baseUrl, 'GET', MESSAGES)).status).toBe(200);
  });

  it('delays answers by the injected latency, after creating the message', async () => {
    const { sim } = await startSim();
    sim.faults.latency(150, { match: { operation: 'create' } });
    const started = Date.now();
    let answered = false;
    const pending = create(sim.baseUrl, form).then((r) => {
      answered = true;
      return r;
    });
    while (sim.inspect.sent().length === 0) await new Promise((r) => setTimeout(r, 5));
    // Created while the answer is still held back, as when the network is slow after Twilio accepted.
    expect(answered).toBe(false);
    const r = await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(r.status).toBe(201);
    expect(sim.inspect.requests({ operation: 'create' })[0]?.fault).toBe('latency');
  });

  it('leaves a hung request unanswered (message created: ambiguous) until the client gives up', async () => {
    const { sim } = await startSim();
    sim.faults.hang({ times: 1 });
    await expect(request(sim.baseUrl, 'POST', MESSAGES, form, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    expect(sim.inspect.sent()).toHaveLength(1);
    expect(sim.inspect.requests()).toMatchObject([{ operation: 'create', fault: 'hang', status: null }]);
    expect((await create(sim.baseUrl, form)).status).toBe(201);
  });

  it('resets the connection after creating the message: the client cannot tell it was sent', async () => {
    const { sim } = await startSim();
    sim.faults.connectionReset({ times: 1 });
    await expect(create(sim.baseUrl, form)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(sim.inspect.timesSent(form.To, form.Body)).toBe(1);
    // A blind retry duplicates the SMS, and the simulator counts it.
    expect((await create(sim.baseUrl, form)).status).toBe(201);
    expect(sim.inspect.duplicateCount()).toBe(1);
    expect(sim.inspect.duplicates()).toEqual([{ to: form.To, body: form.Body, count: 2 }]);
  });

  it('resets before anything is created with after: receive', async () => {
    const { sim } = await startSim();
    sim.faults.connectionReset({ times: 1, after: 'receive' });
    await expect(create(sim.baseUrl, form)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(sim.inspect.sent()).toHaveLength(0);
  });

  it('ends hung requests on stop() and removes single rules by id', async () => {
    const { sim } = await startSim();
    const id = sim.faults.hang({ after: 'receive' });
    const hung = create(sim.baseUrl, form).catch((e: NodeJS.ErrnoException) => e.code);
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.faults.remove(id)).toBe(true);
    expect(sim.faults.remove(id)).toBe(false);
    await sim.stop();
    await expect(hung).resolves.toBe('ECONNRESET');
  });

  it('rejects malformed rules', async () => {
    const { sim } = await startSim();
    expect(() => sim.faults.add({ kind: 'latency', ms: -1 })).toThrow();
    expect(() => sim.faults.add({ kind: 'nonsense' } as never)).toThrow();
  });
});
