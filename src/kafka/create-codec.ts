import type { AppConfig } from '../config';
import { topicFor } from './topics';
import type { EnvelopeCodec } from '../envelope/codecs/codec';
import { JsonEnvelopeCodec } from '../envelope/codecs/json-codec';
import { SchemaRegistryEnvelopeCodec, type Compatibility } from '../envelope/codecs/schema-registry-codec';

/**
 * The codec the configuration asks for: SCHEMA_REGISTRY_URL set ⇒ Confluent
 * Schema Registry with JSON Schema, subject `<topic>-value` (TopicNameStrategy);
 * otherwise plain JSON.
 */
export function createCodec(
  config: Pick<AppConfig, 'kafka' | 'schemaRegistry'>,
  options: { compatibility?: Compatibility } = {},
): EnvelopeCodec {
  if (!config.schemaRegistry) return new JsonEnvelopeCodec();
  const topics = config.kafka.topics;
  return new SchemaRegistryEnvelopeCodec({
    url: config.schemaRegistry.url,
    subjectFor: (event) => `${topicFor(event, topics)}-value`,
    ...options,
  });
}
