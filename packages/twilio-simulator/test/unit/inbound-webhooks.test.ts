import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACCOUNT, FROM, MESSAGES, request, startSim } from './helpers';
import { WebhookReceiver } from './webhook-receiver';

/** Inbound texts: parameters, opt-out bookkeeping, and Twilio's retry rules from connection overrides. */
describe('inbound webhooks', () => {
  const receiver = new WebhookReceiver();
  let base: string;
  beforeAll(async () => {
    base = await receiver.start();
  });
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.reply([]);
  });

  const phone = '+15550200000';

  it('does not retry a 503 by default (retry policy ct)', async () => {
    const { sim } = await startSim();
    receiver.reply([503]);
    const r = await sim.sendInbound({ from: phone, to: FROM, body: 'hi', webhookUrl: `${base}/sms` });
    expect(r).toMatchObject({ delivered: false, statusCodes: [503], attempts: 1 });
    expect(r.webhook?.attempts[0]).toMatchObject({ status: 503, failure: '5xx' });
  });

  it('retries 5xx with #rp=5xx up to #rc, with the same idempotency token and signature', async () => {
    const { sim } = await startSim();
    receiver.reply([503, 500]);
    const r = await sim.sendInbound({ from: phone, to: FROM, body: 'hi', webhookUrl: `${base}/sms#rp=5xx&rc=2` });
    expect(r).toMatchObject({ delivered: true, statusCodes: [503, 500, 200], attempts: 3 });
    const tokens = new Set(receiver.received.map((x) => x.headers['i-twilio-idempotency-token']));
    const signatures = new Set(receiver.received.map((x) => x.headers['x-twilio-signature']));
    expect(tokens.size).toBe(1);
    expect(signatures.size).toBe(1);
    expect(r.webhook?.responseBody).toBe('<Response/>');
  });

  it('does not retry 4xx unless #rp says so', async () => {
    const { sim } = await startSim();
    receiver.reply([403, 403]);
    expect((await sim.sendInbound({ from: phone, to: FROM, body: 'a', webhookUrl: `${base}/sms` })).attempts).toBe(1);
    receiver.reply([403]);
    const r = await sim.sendInbound({ from: phone, to: FROM, body: 'b', webhookUrl: `${base}/sms#rp=4xx` });
    expect(r.statusCodes).toEqual([403, 200]);
  });

  it('retries a refused connection once by default', async () => {
    const { sim } = await startSim();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await sim.sendInbound({ from: phone, to: FROM, body: 'x', webhookUrl: `http://127.0.0.1:${port}/sms` });
    expect(r.delivered).toBe(false);
    expect(r.webhook?.attempts.map((a) => [a.failure, a.error])).toEqual([
      ['ct', 'ECONNREFUSED'],
      ['ct', 'ECONNREFUSED'],
    ]);
  });

  it('times out a silent server after #rt and retries it with #rp=rt', async () => {
    const { sim } = await startSim();
    receiver.reply(['hang', 'hang']);
    const started = Date.now();
    const r = await sim.sendInbound({ from: phone, to: FROM, body: 'x', webhookUrl: `${base}/sms#rt=200&rp=rt&rc=1` });
    expect(r.webhook?.attempts.map((a) => [a.status, a.failure, a.error])).toEqual([
      [null, 'rt', 'read timeout'],
      [null, 'rt', 'read timeout'],
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('stops retrying when the total time (#tt) is used up', async () => {
    const { sim } = await startSim();
    receiver.reply(['hang', 'hang', 'hang']);
    const started = Date.now();
    const r = await sim.sendInbound({
      from: phone,
      to: FROM,
      body: 'x',
      webhookUrl: `${base}/sms#rt=300&tt=400&rc=5&rp=all`,
    });
    expect(r.attempts).toBe(2);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('posts to the fallback URL when the primary fails', async () => {
    const { sim } = await startSim();
    receiver.reply([500]);
    const r = await sim.sendInbound({
      from: phone,
      to: FROM,
      body: 'x',
      webhookUrl: `${base}/primary`,
      fallbackUrl: `${base}/fallback`,
    });
    expect(r.delivered).toBe(true);
    expect(r.statusCodes).toEqual([500, 200]);
    expect(receiver.received.map((x) => x.path)).toEqual(['/primary', '/fallback']);
    expect(r.fallback?.kind).toBe('inbound-fallback');
  });

  it("uses the number's smsUrl, then options.inboundWebhookUrl, else only stores the text", async () => {
    const { sim } = await startSim({
      phoneNumbers: [{ phoneNumber: FROM, smsUrl: `${base}/number` }],
      inboundWebhookUrl: `${base}/default`,
    });
    await sim.sendInbound({ from: phone, to: FROM, body: 'a' });
    await sim.sendInbound({ from: phone, to: '+15005550010', body: 'b' });
    expect(receiver.received.map((x) => x.path)).toEqual(['/number', '/default']);
    const { sim: bare } = await startSim();
    const r = await bare.sendInbound({ from: phone, to: FROM, body: 'c' });
    expect(r.webhook).toBeUndefined();
    expect(bare.inspect.messages({ direction: 'inbound' })).toHaveLength(1);
  });

  it('keeps the STOP list: STOP blocks the number (or its service), START lifts it, HELP changes nothing', async () => {
    const mg = 'MG' + 'd'.repeat(32);
    const { sim } = await startSim({
      phoneNumbers: [{ phoneNumber: FROM }, { phoneNumber: '+15017122661', messagingServiceSid: mg }],
    });
    await sim.sendInbound({ from: phone, to: FROM, body: 'STOP' });
    await sim.sendInbound({ from: phone, to: '+15017122661', body: 'help' });
    expect(sim.inspect.optOuts()).toEqual([{ accountSid: ACCOUNT, phone, scope: FROM }]);
    await sim.sendInbound({ from: phone, to: '+15017122661', body: 'quit' });
    expect(sim.inspect.optOuts()).toContainEqual({ accountSid: ACCOUNT, phone, scope: mg });
    await sim.sendInbound({ from: phone, to: FROM, body: 'unstop' });
    expect(sim.inspect.optOuts()).toEqual([{ accountSid: ACCOUNT, phone, scope: mg }]);
  });

  it('stores the text as an inbound message the REST list returns, with geo fields and extras', async () => {
    const { sim } = await startSim();
    const r = await sim.sendInbound({
      from: '+442071234567',
      to: FROM,
      body: 'hello',
      webhookUrl: `${base}/sms`,
      geo: { FromCity: 'LONDON' },
      extraParams: { AddOns: '{"status":"successful"}' },
    });
    expect(receiver.received[0]?.params).toMatchObject({
      FromCountry: 'GB',
      FromCity: 'LONDON',
      ToCountry: 'US',
      AddOns: '{"status":"successful"}',
    });
    const list = await request(sim.baseUrl, 'GET', MESSAGES);
    expect(list.body.messages).toMatchObject([{ sid: r.messageSid, direction: 'inbound', status: 'received' }]);
  });
});
