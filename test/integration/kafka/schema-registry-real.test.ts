import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  EVENT_TYPES,
  SCHEMA_REGISTRY_JSON_CONTENT_TYPE,
  SchemaRegistryEnvelopeCodec,
  type InternalEventV2,
} from '../../../src/envelope';
import { createCodec } from '../../../src/kafka';
import { classifyRegistryError } from '../../../src/envelope/codecs/registry-errors';
import { envelopeJsonSchema } from '../../../src/envelope/codecs/json-schema';
import { createKafka, EventPublisher, keyFor, topicFor } from '../../../src/kafka';
import { silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { sampleEnvelopes } from '../../helpers/envelopes';
import { createTestTopics, testKafka, testKafkaConfig, uniqueName, type TestTopics } from '../../helpers/kafka';
import { apacheKafkaBrokers } from '../../helpers/kafka-cluster';
import { readRecords } from '../../helpers/kafka-consumer';

/**
 * The Schema Registry codec against an INDEPENDENT Confluent-compatible
 * registry (not the project's LocalSchemaRegistry) and a real Apache Kafka
 * broker (the run's own, or one this file starts when the run is on the mock).
 *
 * The registry is Apicurio Registry 2.4.2.Final (in-memory storage, its
 * Confluent-compatible API /apis/ccompat/v7) from scripts/schema-registry.sh,
 * or any running Confluent-compatible registry named by
 * IE_REAL_SCHEMA_REGISTRY_URL (Confluent Schema Registry, Karapace, another
 * Apicurio). See docs/schema-registry.md.
 */
const externalUrl = process.env.IE_REAL_SCHEMA_REGISTRY_URL;

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
jest.setTimeout(240_000);

/** Runs scripts/<name> from the repository root and returns the last line it printed (a URL or bootstrap). */
async function script(name: string, args: string[], timeoutMs: number): Promise<string> {
  const { stdout } = await run(path.join(REPO_ROOT, 'scripts', name), args, {
    cwd: REPO_ROOT,
    timeout: timeoutMs,
    maxBuffer: 1 << 20,
  });
  return stdout.trim().split('\n').pop()!;
}

/** The envelope schema with `edit` applied to each of its object branches (one per event type). */
function evolvedSchema(edit: (branch: { properties: Record<string, unknown>; required?: string[] }) => void): string {
  const schema = JSON.parse(envelopeJsonSchema()) as { oneOf: { properties: Record<string, unknown> }[] };
  for (const branch of schema.oneOf) edit(branch);
  return JSON.stringify(schema);
}

/** The registry's REST API, read directly (not through the client under test). */
async function rest<T>(
  base: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

describe('Schema Registry codec on an independent registry and a real Kafka broker', () => {
  let brokers: string[];
  let registryUrl: string;
  let topics: TestTopics;
  // Subjects on an external registry may exist already: this run's topics (and so subjects) share a fresh prefix.
  const prefix = uniqueName('ie-srr');
  const startup: Record<string, number> = {};

  beforeAll(async () => {
    let t0 = Date.now();
    brokers = await apacheKafkaBrokers();
    startup.kafkaMs = Date.now() - t0;
    if (externalUrl) {
      registryUrl = externalUrl.replace(/\/+$/, '');
    } else {
      const base = path.join(REPO_ROOT, 'build', 'schema-registry');
      mkdirSync(base, { recursive: true });
      const registryDir = mkdtempSync(path.join(base, 'run-'));
      onCleanup(async () => {
        await script('schema-registry.sh', ['stop', '--dir', registryDir], 60_000);
        rmSync(registryDir, { recursive: true, force: true });
      });
      t0 = Date.now();
      registryUrl = await script(
        'schema-registry.sh',
        ['start', '--dir', registryDir, '--watch', String(process.pid)],
        600_000,
      );
      startup.registryMs = Date.now() - t0;
    }
    topics = await createTestTopics(prefix, brokers);
    process.stdout.write(`schema-registry-real: start-up ${JSON.stringify(startup)} registry ${registryUrl}\n`);
  });

  it('registers one subject per topic (version 1, same id), publishes in the Confluent wire format to the broker, decodes back', async () => {
    const config = { kafka: testKafkaConfig(topics, brokers), schemaRegistry: { url: registryUrl } };
    const publisher = new EventPublisher({
      kafka: createKafka(config.kafka, silentLogger),
      topics,
      codec: createCodec(config),
    });
    onCleanup(() => publisher.stop());
    await publisher.start();
    const samples = sampleEnvelopes();
    const events = EVENT_TYPES.map((t) => samples[t]);

    // One subject registration at a time (the first event of each topic), then the rest concurrently (cached ids).
    // Apicurio 2.4.2's in-memory (H2) storage fails concurrent first registrations of different subjects: 500
    // "Timeout trying to lock table" / a constraint violation, and after the client's retry a 409 "artifact already
    // exists" (docs/schema-registry.md).
    const first = [...new Map(events.map((e) => [topicFor(e, topics), e])).values()];
    for (const event of first) await publisher.publish(event);
    await Promise.all(events.filter((e) => !first.includes(e)).map((e) => publisher.publish(e)));

    // Subjects and versions, read from the registry's REST API.
    const used = [...new Set(events.map((e) => topicFor(e, topics)))].sort();
    const subjects = (await rest<string[]>(registryUrl, 'GET', '/subjects')).body;
    expect(subjects.filter((s) => s.startsWith(`${prefix}-`)).sort()).toEqual(used.map((t) => `${t}-value`));
    const ids = new Set<number>();
    for (const topic of used) {
      const subject = `${topic}-value`;
      expect(await rest(registryUrl, 'GET', `/subjects/${subject}/versions`)).toEqual({ status: 200, body: [1] });
      const v1 = await rest<{ subject: string; version: number; id: number; schemaType?: string; schema: string }>(
        registryUrl,
        'GET',
        `/subjects/${subject}/versions/1`,
      );
      expect(v1.status).toBe(200);
      expect(v1.body).toMatchObject({ subject, version: 1, schemaType: 'JSON' });
      expect(JSON.parse(v1.body.schema)).toEqual(JSON.parse(envelopeJsonSchema()));
      expect(v1.body.id).toBeGreaterThan(0);
      ids.add(v1.body.id);
      // The codec asked for BACKWARD on the subject's first registration.
      expect((await rest<{ compatibilityLevel: string }>(registryUrl, 'GET', `/config/${subject}`)).body).toEqual({
        compatibilityLevel: 'BACKWARD',
      });
    }
    // The same schema text has one id across subjects (Confluent's rule).
    expect(ids.size).toBe(1);
    const [id] = [...ids] as [number];
    const byId = await rest<{ schema: string; schemaType?: string }>(registryUrl, 'GET', `/schemas/ids/${id}`);
    expect(byId.status).toBe(200);
    expect(JSON.parse(byId.body.schema)).toEqual(JSON.parse(envelopeJsonSchema()));

    // The records on the broker: magic byte 0, the 4-byte big-endian id, the JSON envelope.
    const records = await readRecords({ topics: used, count: events.length, kafka: testKafka(brokers) });
    expect(records).toHaveLength(events.length);
    const consumerCodec = createCodec(config); // no cache: fetches the schema by the id in each record
    for (const event of events) {
      const record = records.find((r) => r.headers.ce_id === event.id)!;
      expect(record).toBeDefined();
      expect(record.topic).toBe(topicFor(event, topics));
      expect(record.key).toBe(keyFor(event));
      expect(record.headers['content-type']).toBe(SCHEMA_REGISTRY_JSON_CONTENT_TYPE);
      const value = record.value!;
      expect(value[0]).toBe(0);
      expect(value.readInt32BE(1)).toBe(id);
      expect(JSON.parse(value.subarray(5).toString('utf8'))).toEqual(event);
      expect(await consumerCodec.decode(value)).toEqual(event);
    }
  });

  it('with BACKWARD compatibility, accepts an added optional field and refuses a changed field type', async () => {
    const subjectFor = (e: InternalEventV2) => `${topicFor(e, topics)}-value`;
    const codec = new SchemaRegistryEnvelopeCodec({ url: registryUrl, subjectFor, compatibility: 'BACKWARD' });
    const event = sampleEnvelopes()['sms.inbound.received'];
    const subject = subjectFor(event);
    const v1Id = await codec.schemaIdFor(event);
    expect(await rest(registryUrl, 'PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).toEqual({
      status: 200,
      body: { compatibility: 'BACKWARD' },
    });

    const added = evolvedSchema((b) => {
      b.properties.traceParent = { type: 'string', maxLength: 55 };
    });
    const changed = evolvedSchema((b) => {
      b.properties.id = { type: 'integer' };
    });

    // The registry's own verdicts, before registering anything.
    expect(
      await rest(registryUrl, 'POST', `/compatibility/subjects/${subject}/versions/latest`, {
        schemaType: 'JSON',
        schema: added,
      }),
    ).toMatchObject({ status: 200, body: { is_compatible: true } });
    expect(
      await rest(registryUrl, 'POST', `/compatibility/subjects/${subject}/versions/latest`, {
        schemaType: 'JSON',
        schema: changed,
      }),
    ).toMatchObject({ status: 200, body: { is_compatible: false } });

    const client = new SchemaRegistry({ host: registryUrl });
    const v2 = await client.register({ type: SchemaType.JSON, schema: added }, { subject });
    expect(v2.id).not.toBe(v1Id);
    expect((await rest(registryUrl, 'GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);

    const refused = await client
      .register({ type: SchemaType.JSON, schema: changed }, { subject })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { status?: number }).status).toBe(409);
    // The project treats the registry's "no" as final (not retried as an outage).
    expect(classifyRegistryError(refused)).toBe('rejected');
    expect((await rest(registryUrl, 'GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);

    // A fresh codec (a restarted service) finds the envelope schema it registered as version 1: same id, no version 3.
    const restarted = createCodec({ kafka: testKafkaConfig(topics, brokers), schemaRegistry: { url: registryUrl } });
    const bytes = await restarted.encode(event);
    expect(bytes.readInt32BE(1)).toBe(v1Id);
    expect((await rest(registryUrl, 'GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
    // A record written with v2 (the added field): the consumer validates it with the writer's schema (fetched by id).
    const v2Bytes = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0]),
      Buffer.from(JSON.stringify({ ...event, traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })),
    ]);
    v2Bytes.writeInt32BE(v2.id, 1);
    // A reader still on version 1 reads them: the writer's schema (v2) passes, zod drops the field it does not know.
    expect(await restarted.decode(v2Bytes)).toEqual(event);
  });
});
