export { createVoiceIngress, type VoiceContext, type VoiceIngress, type VoiceOptions } from './create-voice-routes';
export { VoiceRouting, type ResolvedRoute, type VoiceRule } from './voice-routing';
export { VoiceTwiml } from './voice-twiml';
export { EventOutbox, type OutboxEntry, type PublishedCheck } from './event-outbox';
export {
  VOICE_WEBHOOK_PATH,
  VOICE_STATUS_PATH,
  VOICE_RECORDING_PATH,
  VOICE_TRANSCRIPTION_PATH,
  VOICE_DIAL_PATH,
} from './voice-twiml';
