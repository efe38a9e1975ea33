import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { installApiAuth, installApiErrorHandler } from '../../../../src/api-kit';
import { hashApiToken, type ApiTokenEntry } from '../../../../src/config/api-tokens';
import { silentLogger } from '../../../../src/observability';
import { createCallRoutes } from '../../../../src/twilio/voice-egress/call-routes';
import { RecordingFetcher } from '../../../../src/twilio/voice-egress/recording-fetcher';
import { ACCOUNT, ALICE, CALLER, TWIML, voiceHarness } from './fakes';

const SENDER = 'send-token-0123456789';
const READER = 'read-token-0123456789';
const AUTH_TOKEN = 'secret-auth-token-of-the-account';
const tokens: ApiTokenEntry[] = [
  { name: 'backend', scopes: ['send'], sha256: hashApiToken(SENDER) },
  { name: 'support', scopes: ['read'], sha256: hashApiToken(READER) },
];
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(40, 1)]);
const RE = 'RE' + '1'.repeat(32);

/** A stand-in for Twilio's recording resources on 127.0.0.1 that insists on the account's Basic auth. */
async function fakeTwilio(): Promise<{ server: http.Server; url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    const expected = 'Basic ' + Buffer.from(`${ACCOUNT}:${AUTH_TOKEN}`).toString('base64');
    if (req.headers.authorization !== expected) return res.writeHead(401).end('{"code":20003}');
    const list = /\/Calls\/(CA[0-9a-f]{32})\/Recordings\.json/.exec(req.url ?? '');
    if (list) {
      const recordings = list[1]!.endsWith('1')
        ? [{ sid: RE, status: 'completed', date_created: new Date().toUTCString() }]
        : [];
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ recordings }));
    }
    if (req.url?.endsWith(`/Recordings/${RE}.wav`)) {
      return res.writeHead(200, { 'content-type': 'audio/x-wav', 'content-length': String(WAV.length) }).end(WAV);
    }
    res.writeHead(404).end('{"code":20404}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('operator call endpoints', () => {
  let app: FastifyInstance;
  let twilio: Awaited<ReturnType<typeof fakeTwilio>>;
  let fetcher: RecordingFetcher;
  const h = voiceHarness();

  beforeAll(async () => {
    twilio = await fakeTwilio();
    fetcher = new RecordingFetcher({
      apiBaseUrl: twilio.url,
      accountSid: ACCOUNT,
      authToken: AUTH_TOKEN,
      timeoutMs: 2000,
    });
    app = Fastify();
    installApiErrorHandler(app, silentLogger);
    installApiAuth(app, { tokens, rateLimit: { perSec: 1000, burst: 1000 }, auditLogger: silentLogger });
    createCallRoutes({ accountSid: ACCOUNT, end: h.deps, recordings: () => fetcher, metrics: h.metrics })(app);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    fetcher.close();
    await new Promise((r) => twilio.server.close(r));
  });

  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('refuses without a token (401) and with a token lacking the scope (403)', async () => {
    const callSid = 'CA' + '0'.repeat(31) + '1';
    expect((await app.inject({ method: 'POST', url: `/api/calls/${callSid}/end` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/api/calls/${callSid}/recording` })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'POST', url: `/api/calls/${callSid}/end`, headers: bearer(READER) })).statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ method: 'GET', url: `/api/calls/${callSid}/recording`, headers: bearer(SENDER) })).statusCode,
    ).toBe(403);
  });

  it('streams the recording fetched with the account credentials, which the caller never sees', async () => {
    const callSid = 'CA' + '0'.repeat(31) + '1';
    const res = await app.inject({ method: 'GET', url: `/api/calls/${callSid}/recording`, headers: bearer(READER) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('audio/x-wav');
    expect(res.rawPayload.equals(WAV)).toBe(true);
    const everything = JSON.stringify(res.headers) + res.rawPayload.toString('latin1');
    expect(everything).not.toContain(AUTH_TOKEN);
    expect(everything).not.toContain(Buffer.from(`${ACCOUNT}:${AUTH_TOKEN}`).toString('base64'));
    expect(twilio.seen.every((s) => !s.split(' ')[0]!.includes(AUTH_TOKEN))).toBe(true);
  });

  it('404 for a call without a recording, 400 for something that is not a CallSid', async () => {
    const none = await app.inject({
      method: 'GET',
      url: `/api/calls/${'CA' + '0'.repeat(32)}/recording`,
      headers: bearer(READER),
    });
    expect(none.statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/api/calls/nope/recording', headers: bearer(READER) });
    expect(bad.statusCode).toBe(400);
  });

  it('ends a live call, answers alreadyEnded the second time, 404 for an unknown call', async () => {
    const placed = await h.calls.create({ accountSid: ACCOUNT, to: ALICE, from: CALLER, twiml: TWIML });
    h.calls.calls.find((c) => c.sid === placed.sid)!.status = 'in-progress';
    const first = await app.inject({ method: 'POST', url: `/api/calls/${placed.sid}/end`, headers: bearer(SENDER) });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ callSid: placed.sid, status: 'completed', alreadyEnded: false });
    const second = await app.inject({ method: 'POST', url: `/api/calls/${placed.sid}/end`, headers: bearer(SENDER) });
    expect(second.json()).toMatchObject({ alreadyEnded: true });
    const unknown = await app.inject({
      method: 'POST',
      url: `/api/calls/${'CA' + 'e'.repeat(32)}/end`,
      headers: bearer(SENDER),
    });
    expect(unknown.statusCode).toBe(404);
  });
});
