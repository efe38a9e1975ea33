export { JSON_CONTENT_TYPE, SCHEMA_REGISTRY_JSON_CONTENT_TYPE, type EnvelopeCodec } from './codec';
export { EnvelopeDecodeError } from './decode-error';
export { JsonEnvelopeCodec } from './json-codec';
export { envelopeJsonSchema } from './json-schema';
export {
  SchemaRegistryEnvelopeCodec,
  type SchemaRegistryCodecOptions,
  type Compatibility,
} from './schema-registry-codec';
