import Fastify, { type FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';
import { installApiAuth, installApiErrorHandler, installMetricsGuard, parseInput } from '../../../src/api-kit';
import { hashApiToken, type ApiTokenEntry } from '../../../src/config';
import { systemClock } from '../../../src/common/clock';

const SENDER = 'sender-token-0123456789';
const READER = 'reader-token-0123456789';
const ADMIN = 'admin-token-01234567890';

const tokens: ApiTokenEntry[] = [
  { name: 'backend', scopes: ['send'], sha256: hashApiToken(SENDER) },
  { name: 'support', scopes: ['read'], sha256: hashApiToken(READER) },
  { name: 'ops', scopes: ['admin'], sha256: hashApiToken(ADMIN) },
];

function capture(): { lines: Record<string, unknown>[]; text: () => string; logger: pino.Logger } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  return {
    logger,
    text: () => chunks.join(''),
    get lines() {
      return chunks
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

async function app(rate = { perSec: 1, burst: 2 }) {
  const log = capture();
  const a: FastifyInstance = Fastify({ bodyLimit: 1024 });
  installApiErrorHandler(a, log.logger);
  const routes = installApiAuth(a, { tokens, rateLimit: rate, auditLogger: log.logger, clock: systemClock });
  const body = z.object({ to: z.string().regex(/^\+\d+$/, 'must be E.164'), n: z.number().int().optional() });
  a.post(
    '/api/things',
    { config: { api: { scope: 'send', tag: 't', summary: 'make', body, responses: { 202: { description: 'ok' } } } } },
    async (req, reply) => reply.code(202).send(parseInput(body, req.body, 'body')),
  );
  a.get(
    '/api/things/:id',
    { config: { api: { scope: 'read', tag: 't', summary: 'read', responses: { 200: { description: 'ok' } } } } },
    async () => ({ ok: true }),
  );
  a.get(
    '/api/open',
    { config: { api: { scope: 'public', tag: 't', summary: 'docs', responses: { 200: { description: 'ok' } } } } },
    async () => ({ open: true }),
  );
  a.get('/healthz', async () => ({ status: 'ok' }));
  await a.ready();
  return { a, log, routes };
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

describe('API token layer', () => {
  it('refuses a missing, malformed or unknown token with 401 and WWW-Authenticate', async () => {
    const { a } = await app();
    for (const authorization of [undefined, 'Basic abc', 'Bearer', `Bearer ${SENDER}x`, SENDER]) {
      const r = await a.inject({
        method: 'GET',
        url: '/api/things/1',
        headers: authorization ? { authorization } : {},
      });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toContain('Bearer');
      expect(r.json()).toMatchObject({ error: 'unauthorized' });
    }
    // Unknown /api paths too: no token, no answer about what exists.
    expect((await a.inject({ method: 'GET', url: '/api/nope' })).statusCode).toBe(401);
    expect(
      (await a.inject({ method: 'GET', url: '/api/nope', headers: { authorization: `Bearer ${READER}` } })).statusCode,
    ).toBe(404);
    await a.close();
  });

  it('refuses a token without the route scope with 403; admin may do everything', async () => {
    const { a } = await app({ perSec: 100, burst: 100 });
    const get = (t: string) =>
      a.inject({ method: 'GET', url: '/api/things/1', headers: { authorization: `Bearer ${t}` } });
    const post = (t: string) =>
      a.inject({
        method: 'POST',
        url: '/api/things',
        headers: { authorization: `Bearer ${t}` },
        payload: { to: '+1555' },
      });
    expect((await get(SENDER)).statusCode).toBe(403);
    expect((await get(SENDER)).json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining('read') });
    expect((await get(READER)).statusCode).toBe(200);
    expect((await post(READER)).statusCode).toBe(403);
    expect((await post(SENDER)).statusCode).toBe(202);
    expect((await get(ADMIN)).statusCode).toBe(200);
    expect((await post(ADMIN)).statusCode).toBe(202);
    expect((await a.inject({ method: 'GET', url: '/api/open' })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await a.close();
  });

  it('limits each token to its rate with 429 and Retry-After, other tokens unaffected', async () => {
    const { a } = await app({ perSec: 0.5, burst: 2 });
    const get = (t: string) =>
      a.inject({ method: 'GET', url: '/api/things/1', headers: { authorization: `Bearer ${t}` } });
    expect((await get(READER)).statusCode).toBe(200);
    expect((await get(READER)).statusCode).toBe(200);
    const limited = await get(READER);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect((await get(ADMIN)).statusCode).toBe(200);
    jest.advanceTimersByTime(2_000);
    expect((await get(READER)).statusCode).toBe(200);
    await a.close();
  });

  it('logs one audit line per call with the token name, the route pattern and the status, never the token', async () => {
    const { a, log } = await app({ perSec: 100, burst: 100 });
    await a.inject({ method: 'GET', url: '/api/things/+15551234567', headers: { authorization: `Bearer ${READER}` } });
    await a.inject({ method: 'GET', url: '/api/things/1', headers: { authorization: `Bearer ${SENDER}` } });
    await a.inject({
      method: 'GET',
      url: '/api/things/1',
      headers: { authorization: `Bearer wrong-token-0123456789` },
    });
    await a.inject({ method: 'GET', url: '/healthz' });
    const lines = log.lines.filter((l) => l.audit === 'api');
    expect(lines.map((l) => [l.caller, l.method, l.route, l.status])).toEqual([
      ['support', 'GET', '/api/things/:id', 200],
      ['backend', 'GET', '/api/things/:id', 403],
      [null, 'GET', '/api/things/:id', 401],
    ]);
    for (const secret of [READER, SENDER, ADMIN, 'wrong-token', '+15551234567'])
      expect(log.text()).not.toContain(secret);
    await a.close();
  });

  it('answers a bad body with 400 naming the field, bad JSON with 400, an oversized body with 413', async () => {
    const { a } = await app({ perSec: 100, burst: 100 });
    const auth = { authorization: `Bearer ${SENDER}` };
    const bad = await a.inject({ method: 'POST', url: '/api/things', headers: auth, payload: { to: 'x', n: 1.5 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'invalid_request', message: 'body.to: must be E.164', field: 'to' });
    const json = await a.inject({
      method: 'POST',
      url: '/api/things',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"to":',
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: 'invalid_json' });
    const big = await a.inject({
      method: 'POST',
      url: '/api/things',
      headers: auth,
      payload: { to: 'x'.repeat(5000) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: 'payload_too_large' });
    const none = await a.inject({ method: 'POST', url: '/api/things', headers: auth });
    expect(none.statusCode).toBe(400);
    await a.close();
  });

  it('refuses to register an /api route that declares no scope, and lists the declared ones', async () => {
    const { a, routes } = await app();
    expect(routes.map((r) => `${r.method} ${r.url} ${r.spec.scope}`)).toEqual([
      'POST /api/things send',
      'GET /api/things/:id read',
      'GET /api/open public',
    ]);
    const b = Fastify();
    installApiAuth(b, { tokens, rateLimit: { perSec: 1, burst: 1 }, auditLogger: capture().logger });
    expect(() => b.get('/api/secret', async () => 'x')).toThrow(/declares no config.api/);
    await a.close();
  });

  it('puts /metrics behind METRICS_TOKEN when it is set, and leaves it open otherwise', async () => {
    const guarded = Fastify();
    installMetricsGuard(guarded, hashApiToken('metrics-token-0123456789'));
    guarded.get('/metrics', async () => 'm 1');
    expect((await guarded.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await guarded.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } }))
        .statusCode,
    ).toBe(401);
    const ok = await guarded.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-token-0123456789' },
    });
    expect(ok.statusCode).toBe(200);
    const open = Fastify();
    installMetricsGuard(open, undefined);
    open.get('/metrics', async () => 'm 1');
    expect((await open.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
