import { TwilioSimulator } from '../../src';
import { ACCOUNT, FROM, MESSAGES, TOKEN, basic, create, request, startSim } from './helpers';

/** HTTP details of the Messages API the SDK contract tests do not reach. */
describe('REST API', () => {
  it('answers 401 with Twilio’s body for missing, wrong or foreign credentials', async () => {
    const other = 'AC' + 'e'.repeat(32);
    const { sim } = await startSim({
      accounts: [
        { accountSid: ACCOUNT, authToken: TOKEN },
        { accountSid: other, authToken: 'other-token' },
      ],
    });
    for (const auth of [null, basic(ACCOUNT, 'wrong'), basic(other, 'other-token'), 'Bearer x', 'Basic !!!']) {
      const r = await request(sim.baseUrl, 'GET', MESSAGES, undefined, { auth });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic realm="Twilio API"');
      expect(r.body).toEqual({
        code: 20003,
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
    }
    const unknown = `/2010-04-01/Accounts/${'AC' + '9'.repeat(32)}/Messages.json`;
    expect((await request(sim.baseUrl, 'GET', unknown)).status).toBe(401);
  });

  it('serves the paths with and without .json, and 404s (20404) anything else', async () => {
    const { sim } = await startSim();
    const r = await create(sim.baseUrl, { To: '+15550400000', From: FROM, Body: 'x' });
    const sid = String(r.body.sid);
    expect((await request(sim.baseUrl, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Messages/${sid}`)).status).toBe(200);
    expect((await request(sim.baseUrl, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Messages`)).status).toBe(200);
    const nf = await request(sim.baseUrl, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Conferences.json`);
    expect(nf.status).toBe(404);
    expect(nf.body.code).toBe(20404);
    expect((await request(sim.baseUrl, 'GET', '/v1/Services')).body.code).toBe(20404);
    expect((await request(sim.baseUrl, 'PUT', MESSAGES)).status).toBe(405);
  });

  it('sets a Twilio-Request-Id and JSON content type', async () => {
    const { sim } = await startSim();
    const r = await create(sim.baseUrl, { To: '+15550400001', From: FROM, Body: 'x' });
    expect(r.headers['twilio-request-id']).toMatch(/^RQ[0-9a-f]{32}$/);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('redacts a body with Body="" and refuses any other update', async () => {
    const { sim } = await startSim();
    const sid = String((await create(sim.baseUrl, { To: '+15550400002', From: FROM, Body: 'secret' })).body.sid);
    const item = `/2010-04-01/Accounts/${ACCOUNT}/Messages/${sid}.json`;
    expect((await request(sim.baseUrl, 'POST', item, { Body: '' })).body.body).toBe('');
    expect((await request(sim.baseUrl, 'POST', item, { Body: 'rewrite' })).body.code).toBe(20001);
    expect((await request(sim.baseUrl, 'POST', item, { Status: 'sent' })).body.code).toBe(20001);
  });

  it('deletes with 204; counters still remember the send', async () => {
    const { sim } = await startSim();
    const sid = String((await create(sim.baseUrl, { To: '+15550400003', From: FROM, Body: 'x' })).body.sid);
    const item = `/2010-04-01/Accounts/${ACCOUNT}/Messages/${sid}.json`;
    expect((await request(sim.baseUrl, 'DELETE', item)).status).toBe(204);
    expect((await request(sim.baseUrl, 'DELETE', item)).status).toBe(404);
    expect(sim.inspect.timesSent('+15550400003', 'x')).toBe(1);
  });

  it('accepts API key credentials for their own account only', async () => {
    const key = { sid: 'SK' + '1'.repeat(32), secret: 'key-secret' };
    const { sim } = await startSim({ accounts: [{ accountSid: ACCOUNT, authToken: TOKEN, apiKeys: [key] }] });
    const ok = await request(sim.baseUrl, 'GET', MESSAGES, undefined, { auth: basic(key.sid, key.secret) });
    expect(ok.status).toBe(200);
    const bad = await request(sim.baseUrl, 'GET', MESSAGES, undefined, { auth: basic(key.sid, 'nope') });
    expect(bad.status).toBe(401);
  });

  it('lets extensions share the port', async () => {
    const { sim } = await startSim({
      extensions: [
        {
          name: 'hello',
          handleRequest: (req, res) => {
            if (req.url !== '/hello') return false;
            res.end('hi');
            return true;
          },
        },
      ],
    });
    expect(await (await fetch(`${sim.baseUrl}/hello`)).text()).toBe('hi');
  });
});

describe('lifecycle and options', () => {
  it('start() and stop() are idempotent; a stopped simulator does not restart', async () => {
    const sim = new TwilioSimulator({ accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }] });
    expect(() => sim.baseUrl).toThrow(/not been started/);
    const [a, b] = await Promise.all([sim.start(), sim.start()]);
    expect(a).toEqual(b);
    expect(a.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.state).toBe('running');
    await Promise.all([sim.stop(), sim.stop()]);
    expect(sim.state).toBe('stopped');
    await expect(sim.start()).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
  });

  it.each([
    [{ accounts: [] }, /at least one account/],
    [{ accounts: [{ accountSid: 'AC123', authToken: 't' }] }, /accountSid/],
    [{ accounts: [{ accountSid: ACCOUNT, authToken: '' }] }, /authToken/],
    [{ accounts: [{ accountSid: ACCOUNT, authToken: 't', apiKeys: [{ sid: 'SK1', secret: 's' }] }] }, /API key/],
    [{ accounts: [{ accountSid: ACCOUNT, authToken: 't' }], statusDelaysMs: { sent: -1 } }, /statusDelaysMs.sent/],
    [{ accounts: [{ accountSid: ACCOUNT, authToken: 't' }], defaultPageSize: 0 }, /defaultPageSize/],
  ])('rejects invalid options %#', (options, message) => {
    expect(() => new TwilioSimulator(options)).toThrow(message);
  });

  it('never puts a secret in an option error', () => {
    try {
      new TwilioSimulator({ accounts: [{ accountSid: 'AC-bad', authToken: 'super-secret-token' }] });
    } catch (err) {
      expect(String(err)).not.toContain('super-secret-token');
    }
  });

  it('reports the environment that points the service at it', async () => {
    const key = { sid: 'SK' + '1'.repeat(32), secret: 'key-secret' };
    const { sim } = await startSim({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN, apiKeys: [key] }],
      phoneNumbers: [{ phoneNumber: FROM }],
      messagingServices: [{ sid: 'MG' + 'f'.repeat(32) }],
    });
    expect(sim.env()).toEqual({
      TWILIO_API_BASE_URL: sim.baseUrl,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_KEY_SID: key.sid,
      TWILIO_API_KEY_SECRET: key.secret,
      TWILIO_PHONE_NUMBER: FROM,
      TWILIO_MESSAGING_SERVICE_SID: 'MG' + 'f'.repeat(32),
    });
  });
});
