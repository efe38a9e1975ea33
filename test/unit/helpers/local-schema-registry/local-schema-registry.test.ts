import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { LocalSchemaRegistry, REGISTRY_CONTENT_TYPE } from '../../../helpers/local-schema-registry';
import { IngressEgressError } from '../../../../src/errors';
import { startLocalRegistry } from '../../../helpers/schema-registry';

const jsonSchema = JSON.stringify({
  type: 'object',
  properties: { n: { type: 'integer' } },
  required: ['n'],
  additionalProperties: false,
});

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': REGISTRY_CONTENT_TYPE },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as unknown };
}

describe('LocalSchemaRegistry over HTTP', () => {
  it('serves the calls @kafkajs/confluent-schema-registry makes (register, encode, decode, lookups)', async () => {
    const registry = await startLocalRegistry();
    const client = new SchemaRegistry({ host: registry.url }, { [SchemaType.JSON]: { strict: true } });
    const subject = 'orders-value';

    const { id } = await client.register({ type: SchemaType.JSON, schema: jsonSchema }, { subject });
    // The first registration also set the subject's compatibility (GET 404 → POST → PUT).
    expect(registry.store.compatibility(subject)).toBe(COMPATIBILITY.BACKWARD);
    // A second registration reads the config (now 200) and gets the same id.
    expect((await client.register({ type: SchemaType.JSON, schema: jsonSchema }, { subject })).id).toBe(id);

    expect(await client.getLatestSchemaId(subject)).toBe(id);
    expect(await client.getRegistryId(subject, 1)).toBe(id);
    expect(await client.getRegistryIdBySchema(subject, { type: SchemaType.JSON, schema: jsonSchema })).toBe(id);

    const encoded = await client.encode(id, { n: 7 });
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    // A fresh client has no cache: decode must fetch GET /schemas/ids/{id}.
    const fresh = new SchemaRegistry({ host: registry.url });
    expect(await fresh.decode(encoded)).toEqual({ n: 7 });
  });

  it('answers errors as {error_code, message} with the registry content type', async () => {
    const registry = await startLocalRegistry();
    const base = registry.url;
    const missing = await call(base, 'GET', '/subjects/nope/versions/latest');
    expect(missing).toEqual({
      status: 404,
      contentType: REGISTRY_CONTENT_TYPE,
      body: { error_code: 40401, message: expect.any(String) },
    });
    expect((await call(base, 'GET', '/schemas/ids/12')).body).toMatchObject({ error_code: 40403 });
    expect((await call(base, 'GET', '/config/nope')).body).toMatchObject({ error_code: 40408 });
    expect((await call(base, 'GET', '/config/nope?defaultToGlobal=true')).body).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
    expect(await call(base, 'POST', '/subjects/s/versions', '{oops')).toMatchObject({
      status: 400,
      body: { error_code: 400 },
    });
    expect(await call(base, 'POST', '/subjects/s/versions', { schema: 'not json' })).toMatchObject({
      status: 422,
      body: { error_code: 42201 },
    });
    expect(await call(base, 'PUT', '/config/s', { compatibility: 'MAYBE' })).toMatchObject({
      status: 422,
      body: { error_code: 42203 },
    });
    expect(await call(base, 'DELETE', '/subjects/s/versions')).toMatchObject({
      status: 405,
      body: { error_code: 405 },
    });
    expect(await call(base, 'GET', '/mode')).toMatchObject({ status: 404, body: { error_code: 404 } });
  });

  it('round-trips schemas by id and version, omitting schemaType for Avro', async () => {
    const registry = await startLocalRegistry();
    const base = registry.url;
    const avro = JSON.stringify({ type: 'record', name: 'R', fields: [] });
    const a = await call(base, 'POST', '/subjects/a%2Fb-value/versions', { schema: avro });
    const j = await call(base, 'POST', '/subjects/a%2Fb-value/versions', { schema: jsonSchema, schemaType: 'JSON' });
    expect(a.body).toEqual({ id: 1 });
    expect(j.body).toEqual({ id: 2 });
    expect((await call(base, 'GET', '/schemas/ids/1')).body).toEqual({ schema: avro });
    expect((await call(base, 'GET', '/schemas/ids/2')).body).toEqual({ schema: jsonSchema, schemaType: 'JSON' });
    expect((await call(base, 'GET', '/subjects/a%2Fb-value/versions/latest')).body).toEqual({
      subject: 'a/b-value',
      version: 2,
      id: 2,
      schema: jsonSchema,
      schemaType: 'JSON',
    });
    expect((await call(base, 'POST', '/subjects/a%2Fb-value', { schema: avro })).body).toMatchObject({
      version: 1,
      id: 1,
    });
    expect((await call(base, 'GET', '/subjects')).body).toEqual(['a/b-value']);
    expect((await call(base, 'GET', '/subjects/a%2Fb-value/versions')).body).toEqual([1, 2]);
    expect((await call(base, 'PUT', '/config/a%2Fb-value', { compatibility: 'NONE' })).body).toEqual({
      compatibility: 'NONE',
    });
  });

  it('has idempotent start/stop sharing one promise, and never restarts once stopped', async () => {
    const registry = new LocalSchemaRegistry();
    const [u1, u2] = await Promise.all([registry.start(), registry.start()]);
    expect(u1).toBe(u2);
    expect(u1).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.status).toBe('listening');
    // A kept-alive client connection must not hold stop() open.
    await call(u1, 'GET', '/subjects');
    const s1 = registry.stop();
    expect(registry.stop()).toBe(s1);
    await s1;
    expect(registry.status).toBe('stopped');
    await expect(fetch(`${u1}/subjects`)).rejects.toThrow();
    await expect(registry.start()).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
    expect(() => registry.url).toThrow(IngressEgressError);
  });

  it('stops cleanly when it was never started', async () => {
    const registry = new LocalSchemaRegistry();
    await registry.stop();
    expect(registry.status).toBe('stopped');
  });
});
