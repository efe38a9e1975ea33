export * from './schema';
export * from './voice-schema';
export { CALL_STATUS_RANK, isTerminalCallStatus, isAnsweredDial } from './voice-status';
export { VoiceEnvelopeBuilder, withoutCredentials, type VoiceOutcomeType } from './voice-envelope-builder';
export { ensureValidEnvelope, parseEnvelope, sealEnvelope, EnvelopeValidationError } from './validate';
export { SmsEnvelopeBuilder, type TwilioParams, type ConversationMessageInput } from './sms-envelope-builder';
export { deterministicEventId, randomEventId } from './event-id';
export { STATUS_RANK, isTerminalStatus } from './status';
export {
  JsonEnvelopeCodec,
  SchemaRegistryEnvelopeCodec,
  EnvelopeDecodeError,
  envelopeJsonSchema,
  JSON_CONTENT_TYPE,
  SCHEMA_REGISTRY_JSON_CONTENT_TYPE,
  type EnvelopeCodec,
  type SchemaRegistryCodecOptions,
  type Compatibility,
} from './codecs';
