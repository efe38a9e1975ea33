import twilio from 'twilio';
import { createTwilioRestClient, rewriteUri } from '../../../../src/twilio/rest/rest-client';
import { ManualClock, TwilioSimulator } from '@ingress-egress/twilio-simulator';

const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'unit-auth-token';
const FROM = '+15005550006';
const running: TwilioSimulator[] = [];

/** A started simulator on a ManualClock with seed 1; stopped after the test. */
async function startSim(): Promise<{ sim: TwilioSimulator }> {
  const sim = new TwilioSimulator({
    accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
    seed: 1,
    clock: new ManualClock(),
  });
  running.push(sim);
  await sim.start();
  return { sim };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('createTwilioRestClient', () => {
  it('rewrites protocol and host of every Twilio domain, keeping a path prefix', () => {
    const base = new URL('http://127.0.0.1:4010/twilio/');
    expect(rewriteUri('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2', base)).toBe(
      'http://127.0.0.1:4010/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=2',
    );
    expect(rewriteUri('https://conversations.twilio.com/v1/Services', new URL('http://h:1'))).toBe(
      'http://h:1/v1/Services',
    );
  });

  it('talks to the base URL with autoRetry off and our timeout', async () => {
    const { sim } = await startSim();
    const client = createTwilioRestClient({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      apiBaseUrl: sim.baseUrl,
      timeoutMs: 1234,
    });
    expect(client.httpClient.autoRetry).toBe(false);
    expect(client.httpClient.defaultTimeout).toBe(1234);
    const m = await client.messages.create({ to: '+15550700000', from: FROM, body: 'x' });
    expect(sim.inspect.message(m.sid)?.body).toBe('x');
    sim.faults.rateLimit({ times: 1 });
    await expect(client.messages.create({ to: '+15550700000', from: FROM, body: 'y' })).rejects.toBeInstanceOf(
      twilio.RestException,
    );
    expect(sim.inspect.requests({ status: 429 })).toHaveLength(1);
  });

  it('surfaces a timeout as an axios ECONNABORTED error, not a RestException', async () => {
    const { sim } = await startSim();
    sim.faults.hang();
    const client = createTwilioRestClient({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      apiBaseUrl: sim.baseUrl,
      timeoutMs: 100,
    });
    await expect(client.messages.create({ to: '+15550700001', from: FROM, body: 'x' })).rejects.toMatchObject({
      code: 'ECONNABORTED',
    });
  });

  it('leaves api.twilio.com alone by default and refuses a malformed base URL', () => {
    const client = createTwilioRestClient({ accountSid: ACCOUNT, authToken: TOKEN, timeoutMs: 1000 });
    expect(client.httpClient).toBeInstanceOf(twilio.RequestClient);
    expect(() =>
      createTwilioRestClient({ accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: 'not a url', timeoutMs: 1000 }),
    ).toThrow(/not a valid URL/);
  });
});
