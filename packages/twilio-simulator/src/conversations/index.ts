export { ConversationsSimulator, type ConversationsSimulatorOptions } from './conversations-simulator';
export {
  ConversationsBackend,
  SimRestError,
  type ConversationState,
  type SimConversation,
  type SimMessage,
  type SimParticipant,
  type SimMedia,
} from './conversations-backend';
export { createConversationsRestHandler, ownsConversationsPath, CONVERSATIONS_REST_BASE } from './rest-handler';
export { verifyAccessToken, type VerifiedToken } from './access-token';
export { encodeFrame, decodeFrame, type TwilsockHeader, type TwilsockFrame } from './twilsock-frame';
export type { TwilsockSession } from './twilsock-session';
