import { silentLogger } from '../../../src/observability';
import { buildServer } from '../../../src/server';
import { testConfig } from '../../helpers/config';
import { MemoryPublisher } from '../../helpers/memory-publisher';

const READ = 'read-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const auth = (t: string) => ({ authorization: `Bearer ${t}` });

async function setup() {
  const publisher = new MemoryPublisher();
  publisher.started = true;
  // A MemoryPublisher has no Kafka client: the DLQ routes answer 503 once auth and input pass.
  const server = buildServer(
    testConfig({ TWILIO_ENABLED: 'false', API_TOKENS: `support:read:${READ},ops:admin:${ADMIN}` }),
    { publisher, logger: silentLogger },
  );
  await server.prepare();
  return server;
}

describe('DLQ routes', () => {
  it('need the admin scope, check their input, and answer 503 without a Kafka client', async () => {
    const server = await setup();
    const get = (url: string, token?: string) =>
      server.app.inject({ method: 'GET', url, ...(token ? { headers: auth(token) } : {}) });
    expect((await get('/api/dlq')).statusCode).toBe(401);
    expect((await get('/api/dlq', READ)).statusCode).toBe(403);
    const badLimit = await get('/api/dlq?limit=0', ADMIN);
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json()).toMatchObject({ field: 'limit' });
    expect((await get('/api/dlq?nope=1', ADMIN)).statusCode).toBe(400);
    const list = await get('/api/dlq?code=TWILIO_PERMANENT', ADMIN);
    expect(list.statusCode).toBe(503);

    const replay = (payload: unknown, token = ADMIN) =>
      server.app.inject({ method: 'POST', url: '/api/dlq/replay', headers: auth(token), payload: payload as object });
    expect((await replay({ dryRun: true }, READ)).statusCode).toBe(403);
    const bad = await replay({ dryRun: 'yes' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'dryRun' });
    expect((await replay({ requestId: 'r-1' })).statusCode).toBe(503);
  });

  it('are in the OpenAPI document', async () => {
    const server = await setup();
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(Object.keys(doc.paths['/api/dlq'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/dlq/replay'] ?? {})).toEqual(['post']);
  });
});
