import {
  EnvelopeDecodeError,
  JsonEnvelopeCodec,
  SchemaRegistryEnvelopeCodec,
  SCHEMA_REGISTRY_JSON_CONTENT_TYPE,
} from '../../../../src/envelope/codecs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { EVENT_TYPES, type InternalEventV2 } from '../../../../src/envelope';
import { IngressEgressError } from '../../../../src/errors';
import { LocalSchemaRegistry } from '../../../helpers/local-schema-registry';
import { sampleEnvelopes } from '../../../helpers/envelopes';
import { startLocalRegistry } from '../../../helpers/schema-registry';

const subjectFor = (e: InternalEventV2) => `${e.type.split('.').slice(0, 2).join('.')}-value`;

describe('SchemaRegistryEnvelopeCodec', () => {
  let registry: LocalSchemaRegistry;
  beforeAll(async () => {
    registry = await startLocalRegistry();
  });
  const samples = sampleEnvelopes();

  it.each(EVENT_TYPES)('round-trips %s through the Confluent wire format', async (type) => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor });
    const bytes = await codec.encode(samples[type]);
    expect(bytes[0]).toBe(0);
    const id = bytes.readInt32BE(1);
    expect(registry.store.schema(id).schemaType).toBe('JSON');
    expect(JSON.parse(bytes.subarray(5).toString('utf8'))).toEqual(samples[type]);
    // A separate codec (a consumer) decodes by fetching the schema by id.
    const consumer = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor });
    expect(await consumer.decode(bytes)).toEqual(samples[type]);
  });

  it('writes exactly the bytes the client library would', async () => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor });
    const event = samples['sms.outbound.requested'];
    const ours = await codec.encode(event);
    const library = await new SchemaRegistry({ host: registry.url }).encode(ours.readInt32BE(1), event);
    expect(ours.equals(library)).toBe(true);
  });

  it('registers once per subject, with the same schema id for every subject', async () => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor: () => 'per-topic-a-value' });
    const other = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor: () => 'per-topic-b-value' });
    const ids = await Promise.all(EVENT_TYPES.map((t) => codec.schemaIdFor(samples[t])));
    expect(new Set(ids).size).toBe(1);
    expect(await other.schemaIdFor(samples['sms.inbound.received'])).toBe(ids[0]);
    expect(registry.store.versions('per-topic-a-value')).toEqual([1]);
    expect(registry.store.compatibility('per-topic-a-value')).toBe('BACKWARD');
  });

  it('names its content type', () => {
    expect(new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor }).contentType).toBe(
      SCHEMA_REGISTRY_JSON_CONTENT_TYPE,
    );
  });

  it('decodes plain JSON values too (producers migrating between codecs)', async () => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor });
    const json = await new JsonEnvelopeCodec().encode(samples['sms.status.updated']);
    expect(await codec.decode(json)).toEqual(samples['sms.status.updated']);
  });

  it.each([
    ['an unknown first byte', Buffer.from([0x05, 1, 2, 3, 4, 5])],
    ['a truncated header', Buffer.from([0, 0, 0])],
    ['an unknown schema id', Buffer.concat([Buffer.from([0, 0, 0, 0x7f, 0x7f]), Buffer.from('{}')])],
  ])('rejects %s with IE_ENVELOPE_DECODE', async (_what, bytes) => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor });
    const err = await codec.decode(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvelopeDecodeError);
    expect(err).toMatchObject({ code: 'IE_ENVELOPE_DECODE', retriable: false });
  });

  it('rejects a payload that fails the writer schema or zod, naming the field', async () => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: registry.url, subjectFor });
    const good = await codec.encode(samples['sms.outbound.accepted']);
    const header = good.subarray(0, 5);
    const bad = { ...samples['sms.outbound.accepted'], tenant: { accountSid: 'AC-bad' } };
    const err = (await codec
      .decode(Buffer.concat([header, Buffer.from(JSON.stringify(bad))]))
      .catch((e: unknown) => e)) as EnvelopeDecodeError;
    expect(err).toBeInstanceOf(EnvelopeDecodeError);
    expect(err.fields.map((f) => f.path).join(',')).toContain('tenant.accountSid');

    const notJson = await codec.decode(Buffer.concat([header, Buffer.from('{nope')])).catch((e: unknown) => e);
    expect(notJson).toMatchObject({ code: 'IE_ENVELOPE_DECODE' });
  });

  it('throws a retriable IE_SCHEMA_REGISTRY error when the registry is unreachable', async () => {
    const down = new LocalSchemaRegistry();
    const url = await down.start();
    await down.stop();
    const codec = new SchemaRegistryEnvelopeCodec({ url, subjectFor, retries: 0 });
    const err = await codec.encode(samples['sms.inbound.received']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngressEgressError);
    expect(err).toMatchObject({ code: 'IE_SCHEMA_REGISTRY', retriable: true });

    const header = Buffer.from([0, 0, 0, 0, 1]);
    const decodeErr = await codec.decode(Buffer.concat([header, Buffer.from('{}')])).catch((e: unknown) => e);
    expect(decodeErr).toMatchObject({ code: 'IE_SCHEMA_REGISTRY', retriable: true });
  });

  it('forgets a failed registration so the next encode tries again', async () => {
    let calls = 0;
    const codec = new SchemaRegistryEnvelopeCodec({
      url: registry.url,
      subjectFor: () => {
        calls++;
        return calls === 1 ? '' : 'retry-after-failure-value';
      },
    });
    // An empty subject makes the client call a path the registry does not serve.
    await expect(codec.encode(samples['sms.inbound.received'])).rejects.toMatchObject({ code: 'IE_SCHEMA_REGISTRY' });
    await expect(codec.encode(samples['sms.inbound.received'])).resolves.toBeInstanceOf(Buffer);
  });

  it('uses credentials in the URL as basic auth, not as part of the host', async () => {
    const seen: (string | undefined)[] = [];
    const spy = await startLocalRegistry();
    const url = new URL(spy.url);
    registryAuthSpy(spy, seen);
    url.username = 'user';
    url.password = 'p@ss';
    const codec = new SchemaRegistryEnvelopeCodec({ url: url.toString(), subjectFor });
    await codec.encode(samples['sms.inbound.received']);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });
});

// Records the Authorization header of every request the registry receives.
function registryAuthSpy(registry: LocalSchemaRegistry, seen: (string | undefined)[]): void {
  const server = (registry as unknown as { server: import('node:http').Server }).server;
  server.prependListener('request', (req: import('node:http').IncomingMessage) => seen.push(req.headers.authorization));
}

describe('SchemaRegistryEnvelopeCodec when the registry answers 409 to a registration', () => {
  const sample = sampleEnvelopes()['sms.inbound.received'];
  // A registry whose registration answers 409 (as Apicurio does to a client retry of a registration that
  // went through) and whose lookup of the schema under the subject finds it, or not.
  async function conflictingRegistry(lookup: 'found' | 'missing'): Promise<string> {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(body));
      };
      req.resume();
      req.on('end', () => {
        if (req.method === 'GET' && req.url?.startsWith('/config/'))
          return send(200, { compatibilityLevel: 'BACKWARD' });
        if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions$/.test(req.url ?? ''))
          return send(409, { error_code: 409, message: 'An artifact with this ID already exists.' });
        if (req.method === 'POST' && /^\/subjects\/[^/]+$/.test(req.url ?? ''))
          return lookup === 'found'
            ? send(200, { subject: 's-value', id: 42, version: 1, schema: '{}', schemaType: 'JSON' })
            : send(404, { error_code: 40403, message: 'Schema not found' });
        return send(404, { error_code: 404, message: 'not here' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestEnd(() => new Promise<void>((r) => server.close(() => r())));
    const address = server.address() as import('node:net').AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }
  const ends: (() => Promise<void>)[] = [];
  const onTestEnd = (fn: () => Promise<void>) => ends.push(fn);
  afterEach(async () => {
    for (const fn of ends.splice(0)) await fn();
  });

  it('takes the id the subject already holds for the same schema', async () => {
    const codec = new SchemaRegistryEnvelopeCodec({ url: await conflictingRegistry('found'), subjectFor, retries: 0 });
    const bytes = await codec.encode(sample);
    expect(bytes.readInt32BE(1)).toBe(42);
  });

  it('refuses for good when the subject does not hold the schema (an incompatible change)', async () => {
    const codec = new SchemaRegistryEnvelopeCodec({
      url: await conflictingRegistry('missing'),
      subjectFor,
      retries: 0,
    });
    await expect(codec.encode(sample)).rejects.toMatchObject({
      code: 'IE_SCHEMA_REGISTRY',
      retriable: false,
      details: { failure: 'rejected' },
    });
  });
});
