import type { InternalEventV2 } from '../schema';
import { EnvelopeValidationError, parseEnvelope } from '../validate';
import { JSON_CONTENT_TYPE, type EnvelopeCodec } from './codec';
import { EnvelopeDecodeError } from './decode-error';

/** The default codec: the envelope as UTF-8 JSON, no registry needed. */
export class JsonEnvelopeCodec implements EnvelopeCodec {
  readonly contentType = JSON_CONTENT_TYPE;

  encode(event: InternalEventV2): Promise<Buffer> {
    return Promise.resolve(this.encodeSync(event));
  }

  encodeSync(event: InternalEventV2): Buffer {
    return Buffer.from(JSON.stringify(event), 'utf8');
  }

  decode(value: Buffer): Promise<InternalEventV2> {
    try {
      return Promise.resolve(decodeJsonEnvelope(value));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/** Parses and validates a JSON envelope; shared with the registry codec's plain-JSON fallback. */
export function decodeJsonEnvelope(value: Buffer): InternalEventV2 {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new EnvelopeDecodeError(`record value is not JSON (${value.length} bytes)`, { cause: err });
  }
  return validateDecoded(parsed);
}

export function validateDecoded(parsed: unknown): InternalEventV2 {
  try {
    return parseEnvelope(parsed);
  } catch (err) {
    if (err instanceof EnvelopeValidationError) {
      throw new EnvelopeDecodeError(`record value is not a valid envelope: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
