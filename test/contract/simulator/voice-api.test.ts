import http from 'node:http';
import type twilio from 'twilio';
import { ManualClock, TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { createSimulatorTwilioClient } from '../../helpers/simulator-client';
import { explain, validators, voiceSpecExamples, voiceValidators } from './twilio-openapi';

/**
 * The official twilio SDK (autoRetry off, pointed at the simulator by the
 * service's own client factory) creates, fetches, lists across pages and ends
 * calls, and reads recordings; every body it receives validates strictly
 * against Twilio's OpenAPI description of the Calls and Recordings
 * resources (every declared field, no other), errors against Twilio's error shape.
 */
const ACCOUNT = 'AC' + '4'.repeat(32);
const TOKEN = 'contract-voice-token';
const FROM = '+15005550006';

interface Captured {
  method: string;
  uri: string;
  statusCode: number;
  body: unknown;
}

function capture(client: twilio.Twilio, into: Captured[]): void {
  const h = client.httpClient;
  const original = h.request.bind(h);
  h.request = (async (opts: Parameters<typeof original>[0]) => {
    const r = await original(opts);
    into.push({ method: opts.method, uri: opts.uri, statusCode: r.statusCode, body: r.body });
    return r;
  }) as typeof h.request;
}

function check(v: (typeof voiceValidators)[keyof typeof voiceValidators], body: unknown): void {
  if (!v(body)) throw new Error(`${explain(v)}\n${JSON.stringify(body, null, 2)}`);
}

describe("Twilio's OpenAPI validators for Calls and Recordings", () => {
  it.each(voiceSpecExamples().map((e) => [e.name, e] as const))('accept the spec example %s', (_n, example) => {
    check(voiceValidators[example.kind], example.value);
  });

  it('reject a call with an ISO date, a numeric duration or a missing field', () => {
    const ex = voiceSpecExamples().find((e) => e.kind === 'call')?.value as Record<string, unknown>;
    expect(voiceValidators.call({ ...ex, date_created: '2024-01-01T00:00:00Z' })).toBe(false);
    const { direction: _d, ...rest } = ex;
    expect(voiceValidators.strictCall({ ...rest })).toBe(false);
    expect(voiceValidators.strictCall({ ...ex, status: 'initiated' })).toBe(false);
  });
});

describe('twilio SDK Calls and Recordings against the simulator', () => {
  let sim: TwilioSimulator;
  let client: twilio.Twilio;
  let app: http.Server;
  let appUrl: string;
  const captured: Captured[] = [];

  beforeAll(async () => {
    app = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          req.url === '/voice'
            ? '<Response><Record action="/after" maxLength="30"/></Response>'
            : '<Response><Hangup/></Response>',
        );
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
    sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      clock: new ManualClock(Date.UTC(2024, 4, 24, 17, 44, 46)),
      seed: 'contract-voice',
      phoneNumbers: [{ phoneNumber: FROM }],
      defaultPageSize: 2,
    });
    await sim.start();
    client = createSimulatorTwilioClient(sim, { timeoutMs: 5000 });
    capture(client, captured);
  });

  afterAll(async () => {
    await sim.stop();
    app.closeAllConnections();
    await new Promise<void>((r) => app.close(() => r()));
  });

  it('create, fetch, end and list calls: every body is a strict Call / call list', async () => {
    captured.length = 0;
    const created = await client.calls.create({
      to: '+14155550123',
      from: FROM,
      twiml: '<Response><Pause length="60"/></Response>',
      statusCallback: `${appUrl}/status`,
      statusCallbackEvent: ['initiated', 'answered', 'completed'],
      record: true,
      machineDetection: 'Enable',
    });
    expect(created.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(created.status).toBe('queued');
    await sim.idle();
    const live = await client.calls(created.sid).fetch();
    expect(live.status).toBe('in-progress');
    expect(live.startTime).toBeInstanceOf(Date);
    const ended = await client.calls(created.sid).update({ status: 'completed' });
    expect(ended.status).toBe('completed');
    for (let i = 0; i < 3; i++) {
      await client.calls.create({ to: '+14155550124', from: FROM, twiml: '<Response><Say>hi</Say></Response>' });
    }
    await sim.idle();
    const listed = await client.calls.list({ to: '+14155550124', startTimeAfter: new Date(Date.UTC(2024, 4, 24)) });
    expect(listed).toHaveLength(3);
    const pages = captured.filter((c) => c.method === 'get' && c.uri.includes('/Calls.json'));
    expect(pages.length).toBeGreaterThanOrEqual(2);
    for (const c of captured) {
      if (c.uri.includes('/Calls.json') && c.method === 'get') check(voiceValidators.strictCallList, c.body);
      else check(voiceValidators.strictCall, c.body);
    }
  });

  it('recordings: the resource, the account list and the call list are strict; media needs auth', async () => {
    captured.length = 0;
    const r = await sim.voice.call({
      from: '+14155550100',
      to: FROM,
      webhookUrl: `${appUrl}/voice`,
      voicemail: { durationSecs: 4 },
    });
    const recordingSid = r.recordingSids[0] ?? '';
    const rec = await client.recordings(recordingSid).fetch();
    expect(rec).toMatchObject({ sid: recordingSid, callSid: r.callSid, duration: '4', status: 'completed' });
    const byCall = await client.calls(r.callSid).recordings.list();
    expect(byCall.map((x) => x.sid)).toEqual([recordingSid]);
    const all = await client.recordings.list({ callSid: r.callSid });
    expect(all.map((x) => x.sid)).toEqual([recordingSid]);
    for (const c of captured) {
      if (c.uri.includes(`/Calls/${r.callSid}/Recordings.json`)) check(voiceValidators.strictCallRecordingList, c.body);
      else if (c.uri.endsWith('/Recordings.json') || c.uri.includes('/Recordings.json?'))
        check(voiceValidators.strictRecordingList, c.body);
      else check(voiceValidators.strictRecording, c.body);
    }
    const unauth = await fetch(`${sim.baseUrl}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${recordingSid}.wav`);
    expect(unauth.status).toBe(401);
    expect(validators.error(await unauth.json())).toBe(true);
  });

  it('errors of the Calls API have Twilio’s error shape', async () => {
    const err = await client.calls
      .create({ to: 'not-a-number', from: FROM, twiml: '<Response/>' })
      .catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(21211);
    const res = await fetch(`${sim.baseUrl}/2010-04-01/Accounts/${ACCOUNT}/Calls/CA${'0'.repeat(32)}.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}` },
    });
    expect(res.status).toBe(404);
    expect(validators.error(await res.json())).toBe(true);
  });
});
