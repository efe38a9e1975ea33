export {
  TwilioSmsIngressClient,
  INGRESS_STATES,
  type IngressState,
  type TwilioSmsIngressClientOptions,
} from './twilio-sms-ingress-client';
export {
  createConversationsIngress,
  type ConversationsIngress,
  type ConversationsIngressContext,
} from './create-conversations-ingress';
export type {
  ConversationsAdapter,
  ConversationsSession,
  ConversationMessage,
  JoinedConversation,
  SessionListener,
  SessionState,
} from './conversations-adapter';
export { SdkConversationsAdapter, type SdkAdapterOptions } from './sdk-conversations-adapter';
export { createAccessTokenProvider, type TokenProvider, type MintedToken } from './access-token-provider';
export {
  sendConversationReply,
  bindConversationReply,
  type ConversationReply,
  type ConversationReplyResult,
  type ConversationReplyDeps,
} from './send-conversation-reply';
export { TwilioConversationsRest, ConversationsRestError, type ConversationsRest } from './conversations-rest';
export { ConversationMembership, type JoinOutcome } from './conversation-membership';
export { CONVERSATIONS_WEBHOOK_PATH } from './conversations-webhook-route';
