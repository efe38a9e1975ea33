import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import type { InternalEventV2 } from '../schema';
import { SCHEMA_REGISTRY_JSON_CONTENT_TYPE, type EnvelopeCodec } from './codec';
import { EnvelopeDecodeError } from './decode-error';
import { decodeJsonEnvelope, validateDecoded } from './json-codec';
import { envelopeJsonSchema } from './json-schema';
import { classifyRegistryError, registryError } from './registry-errors';

export type Compatibility = `${COMPATIBILITY}`;

export interface SchemaRegistryCodecOptions {
  /** Registry base URL; `https://user:pass@host` credentials become basic auth. */
  url: string;
  /** The subject an envelope's schema is registered under (TopicNameStrategy: `<topic>-value`). */
  subjectFor: (event: InternalEventV2) => string;
  /** Compatibility set on a subject's first registration; an existing subject must already have it. */
  compatibility?: Compatibility;
  /** Retries of 5xx answers inside the client (it retries 3 times by default). */
  retries?: number;
}

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/**
 * Encodes envelopes in the Confluent wire format with a JSON Schema generated
 * from the zod schema, registered once per subject (the first encode for a
 * topic registers, later ones use the cached id). Decoding validates twice:
 * the client checks the writer's JSON Schema (so records from any producer
 * are held to the schema they declare), then parseEnvelope applies the full
 * zod rules. Plain JSON values (first byte `{`) are accepted too, so a
 * consumer keeps working while producers migrate between codecs.
 */
export class SchemaRegistryEnvelopeCodec implements EnvelopeCodec {
  readonly contentType = SCHEMA_REGISTRY_JSON_CONTENT_TYPE;
  private readonly registry: SchemaRegistry;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly compatibility: COMPATIBILITY;

  constructor(private readonly options: SchemaRegistryCodecOptions) {
    const url = new URL(options.url);
    const auth = url.username
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
    url.username = '';
    url.password = '';
    this.compatibility = (options.compatibility ?? 'BACKWARD') as COMPATIBILITY;
    // The client's default Ajv on purpose: it is what any other consumer of these topics gets.
    this.registry = new SchemaRegistry({
      host: url.toString().replace(/\/+$/, ''),
      clientId: 'ingress-egress',
      ...(auth ? { auth } : {}),
      ...(options.retries !== undefined ? { retry: { retries: options.retries } } : {}),
    });
  }

  /** The registry id of the envelope schema under the subject of this event (registers it on first use). */
  schemaIdFor(event: InternalEventV2): Promise<number> {
    const subject = this.options.subjectFor(event);
    let id = this.ids.get(subject);
    if (!id) {
      id = this.register(subject);
      this.ids.set(subject, id);
      // A failed registration is forgotten so the next encode tries again.
      id.catch(() => this.ids.delete(subject));
    }
    return id;
  }

  private async register(subject: string): Promise<number> {
    const schema = { type: SchemaType.JSON as const, schema: envelopeJsonSchema() };
    try {
      const { id } = await this.registry.register(schema, { subject, compatibility: this.compatibility });
      return id;
    } catch (err) {
      // A 409 also answers a retried registration that went through the first time (the client retries
      // 5xx; Apicurio answers "already exists"): if the subject holds this very schema, that is its id.
      // An incompatible schema is not found under the subject, and the 409 stands.
      if ((err as { status?: unknown }).status === 409) {
        const id = await this.registry.getRegistryIdBySchema(subject, schema).catch(() => undefined);
        if (id !== undefined) return id;
      }
      throw registryError(`registering subject ${subject}`, err);
    }
  }

  /**
   * Writes the wire format directly rather than through the client's encode,
   * which re-validates every record with Ajv against the 10-branch oneOf (about
   * 30 µs a record, several times zod's cost). The envelope was validated by
   * parseEnvelope and the schema is generated from the same zod schema.
   */
  async encode(event: InternalEventV2): Promise<Buffer> {
    const id = await this.schemaIdFor(event);
    const json = JSON.stringify(event);
    const out = Buffer.allocUnsafe(HEADER_BYTES + Buffer.byteLength(json, 'utf8'));
    out[0] = MAGIC_BYTE;
    out.writeInt32BE(id, 1);
    out.write(json, HEADER_BYTES, 'utf8');
    return out;
  }

  async decode(value: Buffer): Promise<InternalEventV2> {
    if (value.length > 0 && value[0] !== MAGIC_BYTE) {
      if (value[0] === 0x7b /* { */) return decodeJsonEnvelope(value);
      throw new EnvelopeDecodeError(`record value is neither Confluent wire format nor JSON (first byte ${value[0]})`);
    }
    if (value.length <= HEADER_BYTES) {
      throw new EnvelopeDecodeError(`record value too short for the Confluent wire format (${value.length} bytes)`);
    }
    const schemaId = value.readInt32BE(1);
    let payload: unknown;
    try {
      payload = await this.registry.decode(value);
    } catch (err) {
      const paths = (err as { paths?: unknown }).paths;
      if (Array.isArray(paths)) {
        throw new EnvelopeDecodeError(`record value fails JSON Schema id ${schemaId}`, {
          cause: err,
          fields: paths.map((p: unknown) => ({ path: toPath(p), message: 'fails the writer schema' })),
        });
      }
      if (err instanceof SyntaxError) {
        throw new EnvelopeDecodeError(`record value with schema id ${schemaId} is not JSON`, { cause: err });
      }
      if (classifyRegistryError(err) === 'not_found') {
        throw new EnvelopeDecodeError(`schema id ${schemaId} is not in the Schema Registry`, { cause: err });
      }
      throw registryError(`fetching schema id ${schemaId}`, err);
    }
    return validateDecoded(payload);
  }
}

// The client reports JSON pointers split into segments: ['/data/to'] → 'data.to'.
function toPath(p: unknown): string {
  const raw = Array.isArray(p) ? p.join('') : String(p);
  return raw.replace(/^\//, '').replace(/\//g, '.') || '(root)';
}
