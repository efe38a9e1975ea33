/**
 * The Twilio simulator's public surface: a local Twilio for tests, the
 * sandbox and benchmarks (see README.md).
 */
export { TwilioSimulator, type InboundInput, type InboundResult, type SimRecordingView } from './twilio-simulator';
export type { CallStatus, CallAnswer, CallDirection, SimCallView } from './call';
export type { IncomingCallInput, CallResult, CallWebhookSummary } from './call-player';
export type { VoiceOptions, CallAnswerRule } from './voice-options';
export { readTwiml, type TwimlVerb } from './twiml-reader';
export { wavBytes, mp3Bytes } from './audio';
export type {
  TwilioSimulatorOptions,
  SimulatorAccount,
  SimulatorPhoneNumber,
  SimulatorMessagingService,
  SimulatorExtension,
} from './options';
export { ManualClock, RealClock, type SimClock, type SimTimer } from './clock';
export { SeededRng } from './rng';
export type { FaultRule, FaultMatch, FaultView, RestOperation, RestResource } from './faults';
export type { FaultControls, FaultScope } from './fault-controls';
export type { OutcomeRule, FinalStatus } from './outcomes';
export type { CallbackChaos } from './status-callbacks';
export { DEFAULT_STATUS_DELAYS, type StatusDelays } from './status-progression';
export type { MessageStatus, MessageDirection, SimMessageView } from './message';
export type { SimulatorInspector, SimulatorStats } from './inspection';
export type { RestRequestLogEntry } from './rest-api';
export type { WebhookDelivery, WebhookAttempt, WebhookKind } from './webhook-sender';
export { OPT_OUT_KEYWORDS, optOutTypeOf, type OptOutType, type OptOutEntry } from './opt-out';
export { loadRecording, type Recording, type RecordedInteraction } from './recorder';
export { parseWebhookUrl, type ConnectionOverrides } from './connection-overrides';
export { runSimulatorCommand, type CommandIo } from './cli';
export { SimulatorError, type SimulatorErrorCode } from './simulator-error';
export { ConversationsSimulator, type ConversationsSimulatorOptions } from './conversations/conversations-simulator';
export { verifyAccessToken, type VerifiedToken } from './conversations/access-token';
