import type { InternalEventV2 } from '../schema';

/**
 * Turns envelopes into Kafka record values and back. `contentType` goes into
 * the record's `content-type` header (CloudEvents binary mode) so a consumer
 * can tell the encodings apart.
 */
export interface EnvelopeCodec {
  readonly contentType: string;
  /** Encodes an envelope the caller has already validated (EventPublisher does). */
  encode(event: InternalEventV2): Promise<Buffer>;
  /** Offered by codecs that need no I/O (JSON): same bytes as encode(), without a promise per record. */
  encodeSync?(event: InternalEventV2): Buffer;
  /** Decodes and validates; throws EnvelopeDecodeError (IE_ENVELOPE_DECODE) on bytes that are not a valid envelope. */
  decode(value: Buffer): Promise<InternalEventV2>;
}

export const JSON_CONTENT_TYPE = 'application/json';
/** Confluent wire format (magic byte 0, 4-byte schema id, JSON payload) with a JSON Schema in the registry. */
export const SCHEMA_REGISTRY_JSON_CONTENT_TYPE = 'application/vnd.confluent.schema-registry+json';
