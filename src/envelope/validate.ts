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

/**
 * Envelopes sealEnvelope validated. They are deep-frozen before they are
 * added, so one that is here still holds what was validated.
 */
const sealed = new WeakSet<object>();

/**
 * Validates an envelope; throws EnvelopeValidationError naming each bad field
 * (e.g. `data.to`). The result is a new object (decoders use this).
 */
export function parseEnvelope(input: unknown): InternalEventV2 {
  const result = InternalEventV2.safeParse(input);
  if (result.success) return result.data;
  throw new EnvelopeValidationError(
    result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  );
}

/**
 * parseEnvelope for an envelope about to be published (SmsEnvelopeBuilder):
 * the result is deep-frozen and remembered, so ensureValidEnvelope (the
 * publisher) passes it through without a second zod pass. Writing to it throws.
 */
export function sealEnvelope(input: unknown): InternalEventV2 {
  const valid = deepFreeze(parseEnvelope(input));
  sealed.add(valid);
  return valid;
}

/** A sealed envelope as it is (it cannot have changed); anything else through parseEnvelope. */
export function ensureValidEnvelope(input: unknown): InternalEventV2 {
  if (typeof input === 'object' && input !== null && sealed.has(input)) return input as InternalEventV2;
  return parseEnvelope(input);
}

/** Zod's output is fresh plain objects and arrays, so no cycles and nothing frozen yet. */
function deepFreeze<T extends object>(value: T): T {
  Object.freeze(value);
  for (const key in value) {
    const child = value[key];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return value;
}
