import { z } from 'zod';
import { InternalEventV2 } from '../schema';

let cached: string | undefined;

type JsonSchemaNode = Record<string, unknown>;

/**
 * Keeps the schema compilable by a default Ajv (what @kafkajs/confluent-schema-registry
 * uses for any consumer that does not configure it): Ajv's strict mode rejects
 * unknown formats and warns on type arrays. Draft-07 makes `format` optional to
 * assert, and zod emits a `pattern` next to `date-time`, so dropping formats
 * loses nothing zod does not check again; a type array is the same as an anyOf
 * of its types.
 */
function portable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portable);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchemaNode = {};
  for (const [key, value] of Object.entries(node as JsonSchemaNode)) {
    if (key === 'format' && typeof value === 'string') continue;
    if (key === 'type' && Array.isArray(value)) out.anyOf = value.map((type: unknown) => ({ type }));
    else out[key] = portable(value);
  }
  return out;
}

/**
 * The JSON Schema registered for every envelope topic, generated from the zod
 * schema so the two cannot drift. Draft-07 because every Confluent Schema
 * Registry version with JSON Schema support and the client's Ajv understand
 * it; `io: 'output'` describes envelopes as they are after parsing (defaults
 * filled in), which is what goes on the wire.
 */
export function envelopeJsonSchema(): string {
  cached ??= JSON.stringify(
    portable(z.toJSONSchema(InternalEventV2, { target: 'draft-7', io: 'output', unrepresentable: 'throw' })),
  );
  return cached;
}
