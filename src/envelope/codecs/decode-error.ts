import { IngressEgressError } from '../../errors';
import { EnvelopeValidationError } from '../validate';

/**
 * A record value that cannot become an envelope: not JSON, unknown schema id,
 * or a JSON object that fails the schema. Never retriable: the same bytes fail
 * the same way, so consumers send them to the DLQ. `fields` names the bad
 * fields when the bytes parsed but did not validate.
 */
export class EnvelopeDecodeError extends IngressEgressError {
  readonly fields: { path: string; message: string }[];

  constructor(message: string, options: { cause?: unknown; fields?: { path: string; message: string }[] } = {}) {
    const fields = options.fields ?? (options.cause instanceof EnvelopeValidationError ? options.cause.fields : []);
    super('IE_ENVELOPE_DECODE', message, {
      cause: options.cause,
      details: fields.length > 0 ? { fields: fields.map((f) => f.path) } : undefined,
    });
    this.fields = fields;
  }
}
