/**
 * The narrow port between TwilioSmsIngressClient and the Conversations SDK.
 * The client's logic (tokens, dedup, checkpoints, publishing) depends only on
 * this, so unit tests drive it with a fake and the real SDK stays in one file
 * (sdk-conversations-adapter.ts).
 */

/** The SDK's connection states (twilsock), as a union of names. */
export type SessionState = 'connecting' | 'connected' | 'disconnecting' | 'disconnected' | 'denied';

export type ConversationLifecycleState = 'active' | 'inactive' | 'closed';

export interface ConversationMedia {
  sid: string;
  contentType: string;
  filename: string | undefined;
}

/** One message as the ingress needs it, detached from SDK objects. */
export interface ConversationMessage {
  conversationSid: string;
  messageSid: string;
  index: number;
  author: string | null;
  body: string | null;
  /** The message attributes as JSON text. */
  attributes: string | undefined;
  dateCreated: Date | undefined;
  participantSid: string | undefined;
  media: ConversationMedia[];
}

export interface JoinedConversation {
  sid: string;
  /**
   * The identity's read horizon: the index of the last message this
   * connector published (its durable checkpoint), or null if it never read one.
   */
  lastReadMessageIndex: number | null;
  state: ConversationLifecycleState | undefined;
}

export interface SessionConnectionError {
  terminal: boolean;
  message: string;
  httpStatusCode?: number | undefined;
  errorCode?: number | undefined;
}

/** What a session reports. Handlers must not throw; they are called from SDK event emitters. */
export interface SessionListener {
  /** The client finished its start-up (configuration, joined conversations). */
  initialized(): void;
  /** Start-up failed; the session will not recover by itself. */
  initFailed(error: SessionConnectionError): void;
  stateChanged(state: SessionState): void;
  connectionError(error: SessionConnectionError): void;
  /** Twilio says the token expires soon (about three minutes before). */
  tokenAboutToExpire(): void;
  /** The token expired and the socket closed; `updateToken` reconnects. */
  tokenExpired(): void;
  /** May fire more than once for the same conversation. */
  conversationJoined(conversation: JoinedConversation): void;
  conversationUpdated(conversation: JoinedConversation): void;
  conversationLeft(conversationSid: string): void;
  messageAdded(message: ConversationMessage): void;
}

/** One live SDK client (one access token lineage). */
export interface ConversationsSession {
  readonly state: SessionState;
  updateToken(token: string): Promise<void>;
  /**
   * Messages of a joined conversation in index order: every message after
   * `afterIndex`, or the latest `limit` when `afterIndex` is null.
   */
  messagesAfter(conversationSid: string, afterIndex: number | null, limit: number): Promise<ConversationMessage[]>;
  /** Records the read horizon (the checkpoint) for the identity in the conversation. */
  setReadHorizon(conversationSid: string, index: number): Promise<void>;
  /** Shuts the client down and closes the socket; idempotent. */
  close(): Promise<void>;
}

export interface ConversationsAdapter {
  /** Starts a client with `token`; events go to `listener` until `close()`. */
  connect(token: string, listener: SessionListener): ConversationsSession;
}
