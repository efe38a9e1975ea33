export { TwilioEgressHandler, type TwilioEgressHandlerOptions } from './twilio-egress-handler';
export { createTwilioEgress, type TwilioEgress, type TwilioEgressContext } from './create-twilio-egress';
export {
  createSharedEgressParts,
  type SharedEgressContext,
  type SharedEgressParts,
} from './create-shared-egress-parts';
export { createConsentCheck } from './create-consent-check';
export { Pipeline, type PipelineOptions } from './pipeline';
export { STAGE_NAMES, type StageName, type Stage, type StageResult } from './stage';
export type { Decision, Delivery, OutboundMessage, OutboundRequest, SendFailure } from './delivery';
export type { EgressDeps, ConsentCheck, OutboundValidator, ValidationResult } from './egress-deps';
export {
  EgressError,
  EGRESS_ERROR_CODES,
  OUTCOME_CODES,
  type EgressErrorCode,
  type OutcomeCode,
} from '../../egress/egress-errors';
export { ledgerKey, type LedgerEntry, type LedgerState, type SendLedger } from './send-ledger';
export { LedgerTable } from './ledger-table';
export { findSentMessage, RECONCILE_SKEW_MS, type ReconcileQuery } from './reconcile';
export { DlqWriter } from '../../egress/dlq-writer';
export { DLQ_HEADERS, type DlqCause, type DlqEntry, type DlqSource } from '../../egress/dlq-record';
export { classifySendError } from './classify-send-error';
export {
  SmsOutboundValidator,
  type SmsOutboundValidatorOptions,
  type TemplateRenderer,
} from './sms-outbound-validator';
export { loadTemplates } from './load-templates';
export { messagesApi, createMessagesApi, type MessagesApi } from './messages-api';
export { TwilioMessagesAdapter, widenSocketPool } from './twilio-messages-adapter';
export type {
  CreateMessageParams,
  ListMessagesFilter,
  TwilioMessage,
  TwilioMessagesPort,
} from './twilio-messages-port';
export { KafkaSendLedger, type KafkaSendLedgerOptions } from './kafka-send-ledger';
