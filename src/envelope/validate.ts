import { IngressEgressError } from '../errors';
import { InternalEventV2 } from './schema';

export class EnvelopeValidationError extends IngressEgressError {
  constructor(
    readonly fields: { path: string; message: string }[],
    cause?: unknown,
  ) {
    super('IE_ENVELOPE_INVALID', `Invalid envelope: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`, {
      cause,
      details: { fields: fields.map((f) => f.path) },
    });
  }
}

/** Validates an envelope; throws EnvelopeValidationError naming each bad field (e.g. `data.to`). */
export function parseEnvelope(input: unknown): InternalEventV2 {
  const result = InternalEventV2.safeParse(input);
  if (result.success) return result.data;
  throw new EnvelopeValidationError(
    result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  );
}
