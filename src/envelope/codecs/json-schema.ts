import { z } from 'zod';
import { InternalEventV2 } from '../schema';

let cached: string | undefined;

/**
 * The JSON Schema registered for every envelope topic, generated from the zod
 * schema so the two cannot drift. Draft-07 because it is the draft every
 * Confluent Schema Registry version and the client's default Ajv understand;
 * `io: 'output'` describes envelopes as they are after parsing (defaults filled
 * in), which is what goes on the wire.
 */
export function envelopeJsonSchema(): string {
  cached ??= JSON.stringify(
    z.toJSONSchema(InternalEventV2, { target: 'draft-7', io: 'output', unrepresentable: 'throw' }),
  );
  return cached;
}
