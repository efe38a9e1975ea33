import { silentLogger } from '../../../src/observability';
import { buildServer } from '../../../src/server';
import { checkOpenApi } from '../../../scripts/check-architecture';
import { testConfig } from '../../helpers/config';
import { MemoryPublisher } from '../../helpers/memory-publisher';

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 generated from the routes, needs no token, and matches the routes one to one', async () => {
    const server = buildServer(testConfig(), {
      publisher: new MemoryPublisher(),
      connectors: [],
      logger: silentLogger,
    });
    await server.prepare();
    const res = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.openapi).toBe('3.1.0');
    const send = doc.paths['/api/sms']!.post!;
    expect(send).toMatchObject({
      security: [{ bearer: [] }],
      'x-scope': 'send',
      requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/SendSms' } } } },
    });
    expect(Object.keys((send.responses as object) ?? {})).toEqual(expect.arrayContaining(['202', '400', '503']));
    expect(doc.components.schemas.SendSms).toMatchObject({ properties: { to: { type: 'string' } } });
    expect(doc.paths['/api/sms/{requestId}/cancel']!.post!.parameters).toEqual([
      expect.objectContaining({ name: 'requestId', in: 'path', required: true }),
    ]);
    expect(await checkOpenApi(server)).toEqual([]);
    await server.app.close();
  });

  it('serves the docs page and its assets from node_modules without a token', async () => {
    const server = buildServer(testConfig(), {
      publisher: new MemoryPublisher(),
      connectors: [],
      logger: silentLogger,
    });
    await server.prepare();
    const page = await server.app.inject({ method: 'GET', url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).not.toMatch(/https?:\/\//);
    const bundle = await server.app.inject({ method: 'GET', url: '/api/docs/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
    expect((await server.app.inject({ method: 'GET', url: '/api/docs/..%2Fpackage.json' })).statusCode).toBe(404);
    await server.app.close();
  });
});
