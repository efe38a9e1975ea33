import type { Client, ClientOptions, Conversation, Message } from '@twilio/conversations';
import type {
  ConversationLifecycleState,
  ConversationMessage,
  ConversationsAdapter,
  ConversationsSession,
  JoinedConversation,
  SessionConnectionError,
  SessionListener,
  SessionState,
} from './conversations-adapter';
import { conversationsSdk } from './load-sdk';
import { finishesWithin, settlesWithin } from '../../common/deadline';

/**
 * The real adapter on the pinned `@twilio/conversations` SDK. Everything the
 * SDK hands out is copied into plain objects here, so no SDK type leaks into
 * the ingress logic.
 */
export interface SdkAdapterOptions {
  /** Overrides the socket URL (`wss://tsock.us1.twilio.com/v3/wsconnect`), e.g. the simulator's. */
  socketUrl?: string | undefined;
  region?: string | undefined;
  /** Twilsock reconnect back-off; Twilio's default is 1 s doubling to 2 min. */
  retryPolicy?: { min: number; max: number; randomness: number } | undefined;
  /** How long `updateToken` waits for a closing socket to finish closing (the SDK needs up to 3 s). */
  disconnectWaitMs?: number;
  /** How long `close()` lets the SDK shut down gracefully before closing the socket itself. */
  shutdownWaitMs?: number;
}

/**
 * The two SDK internals close() needs (see there), typed as optional so a
 * different SDK build degrades to the public shutdown only.
 */
interface TwilsockInternals {
  disconnect?: () => Promise<void>;
  channel?: { transport?: { shutdown?: () => void } };
}

function sdkInternals(client: Client): TwilsockInternals | undefined {
  const services = (client as unknown as { _services?: { twilsockClient?: TwilsockInternals } })._services;
  return services?.twilsockClient;
}

const STATES: readonly SessionState[] = ['connecting', 'connected', 'disconnecting', 'disconnected', 'denied'];
const PAGE_SIZE = 100;

export class SdkConversationsAdapter implements ConversationsAdapter {
  constructor(private readonly options: SdkAdapterOptions = {}) {}

  connect(token: string, listener: SessionListener): ConversationsSession {
    return new SdkConversationsSession(token, listener, this.options);
  }
}

class SdkConversationsSession implements ConversationsSession {
  private readonly client: Client;
  private readonly conversations = new Map<string, Conversation>();
  private closed = false;
  private closing: Promise<void> | undefined;
  private loaded: Promise<void> | undefined;

  constructor(
    token: string,
    private readonly listener: SessionListener,
    private readonly options: SdkAdapterOptions,
  ) {
    const clientOptions: ClientOptions & { retryPolicy?: SdkAdapterOptions['retryPolicy'] } = {
      logLevel: 'silent',
      // Node has no sessionStorage: with it on, Sync tries (and fails, by exception) on every item event.
      Sync: { enableSessionStorage: false },
      ...(options.socketUrl ? { Twilsock: { uri: options.socketUrl } } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    };
    this.client = new (conversationsSdk().Client)(token, clientOptions);
    this.wire();
  }

  get state(): SessionState {
    const s = this.client.connectionState as string;
    return (STATES as readonly string[]).includes(s) ? (s as SessionState) : 'connecting';
  }

  async updateToken(token: string): Promise<void> {
    // After a 410 the SDK waits (up to 3 s) for the socket to close and ignores a
    // token given meanwhile; the token only reconnects once it is disconnected.
    if (this.state === 'disconnecting') await this.waitWhileDisconnecting();
    if (this.closed) return;
    await this.client.updateToken(token);
  }

  async messagesAfter(
    conversationSid: string,
    afterIndex: number | null,
    limit: number,
  ): Promise<ConversationMessage[]> {
    const conversation =
      this.conversations.get(conversationSid) ?? (await this.client.getConversationBySid(conversationSid));
    const out: Message[] = [];
    if (afterIndex === null) {
      // The latest `limit` messages: pages backwards from the end, then sorted.
      let page = await conversation.getMessages(Math.min(PAGE_SIZE, Math.max(limit, 1)), undefined, 'backwards');
      out.push(...page.items);
      while (out.length < limit && page.hasPrevPage) {
        page = await page.prevPage();
        out.push(...page.items);
      }
      out.sort((a, b) => a.index - b.index);
      return out.slice(Math.max(0, out.length - limit)).map((m) => toMessage(conversationSid, m));
    }
    let page = await conversation.getMessages(PAGE_SIZE, afterIndex + 1, 'forward');
    out.push(...page.items);
    while (page.hasNextPage) {
      page = await page.nextPage();
      out.push(...page.items);
    }
    const seen = new Set<number>();
    return out
      .filter((m) => m.index > afterIndex && !seen.has(m.index) && seen.add(m.index))
      .sort((a, b) => a.index - b.index)
      .map((m) => toMessage(conversationSid, m));
  }

  async setReadHorizon(conversationSid: string, index: number): Promise<void> {
    const conversation =
      this.conversations.get(conversationSid) ?? (await this.client.getConversationBySid(conversationSid));
    await conversation.updateLastReadMessageIndex(index);
  }

  close(): Promise<void> {
    if (!this.closing) {
      // Listeners stay attached (the SDK's own may share the emitter); `closed` mutes ours.
      this.closed = true;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const twilsock = sdkInternals(this.client);
    if (this.loaded && this.state === 'connected') await this.waitAtMost(this.loaded, 2000);
    // shutdown() first waits for the client to be ready, which never happens
    // while Twilio is unreachable: then the socket is disconnected directly.
    const gaveUp = !(await settlesWithin(this.client.shutdown(), this.options.shutdownWaitMs ?? 3000));
    const disconnect = twilsock?.disconnect?.();
    if (gaveUp && disconnect)
      await this.waitAtMost(
        disconnect.catch(() => undefined),
        3000,
      );
    // Requests in flight on a socket the SDK closed itself are never failed and
    // keep a 30 s timer each: cancel them so a stopped client leaves nothing running.
    twilsock?.channel?.transport?.shutdown?.();
  }

  private wire(): void {
    const c = this.client;
    const l = this.listener;
    const live =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        if (!this.closed) fn(...args);
      };
    c.on(
      'stateChanged',
      live((state) => {
        if (state !== 'initialized') return;
        // The joined conversations still load after `initialized`; close() waits
        // for them, or the SDK reports the interrupted load on the console.
        this.loaded = this.client.getSubscribedConversations().then(
          () => undefined,
          () => undefined,
        );
        l.initialized();
      }),
    );
    c.on(
      'initFailed',
      live(({ error }) => l.initFailed(toError(error))),
    );
    c.on(
      'connectionStateChanged',
      live((state) => {
        if ((STATES as readonly string[]).includes(state)) l.stateChanged(state as SessionState);
      }),
    );
    c.on(
      'connectionError',
      live((error) => l.connectionError(toError(error))),
    );
    c.on(
      'tokenAboutToExpire',
      live(() => l.tokenAboutToExpire()),
    );
    c.on(
      'tokenExpired',
      live(() => l.tokenExpired()),
    );
    c.on(
      'conversationJoined',
      live((conversation) => {
        this.conversations.set(conversation.sid, conversation);
        l.conversationJoined(toJoined(conversation));
      }),
    );
    c.on(
      'conversationUpdated',
      live(({ conversation, updateReasons }) => {
        if (updateReasons.includes('state') && conversation.status === 'joined')
          l.conversationUpdated(toJoined(conversation));
      }),
    );
    c.on(
      'conversationLeft',
      live((conversation) => {
        this.conversations.delete(conversation.sid);
        l.conversationLeft(conversation.sid);
      }),
    );
    c.on(
      'messageAdded',
      live((message) => l.messageAdded(toMessage(message.conversation.sid, message))),
    );
  }

  private async waitAtMost(p: Promise<void>, ms: number): Promise<void> {
    await finishesWithin(p, ms);
  }

  private waitWhileDisconnecting(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('connectionStateChanged', onState);
        resolve();
      };
      const onState = (state: string) => {
        if (state !== 'disconnecting') done();
      };
      const timer = setTimeout(done, this.options.disconnectWaitMs ?? 5000);
      timer.unref();
      this.client.on('connectionStateChanged', onState);
    });
  }
}

function toError(e: { terminal: boolean; message: string } | undefined): SessionConnectionError {
  const extra = (e ?? {}) as { httpStatusCode?: unknown; errorCode?: unknown };
  return {
    terminal: e?.terminal ?? true,
    message: e?.message ?? 'unknown error',
    httpStatusCode: typeof extra.httpStatusCode === 'number' ? extra.httpStatusCode : undefined,
    errorCode: typeof extra.errorCode === 'number' ? extra.errorCode : undefined,
  };
}

function toJoined(c: Conversation): JoinedConversation {
  const state = c.state?.current as ConversationLifecycleState | undefined;
  return { sid: c.sid, lastReadMessageIndex: c.lastReadMessageIndex, state };
}

function toMessage(conversationSid: string, m: Message): ConversationMessage {
  const attributes = m.attributes;
  return {
    conversationSid,
    messageSid: m.sid,
    index: m.index,
    author: m.author,
    body: m.body,
    attributes:
      attributes === null || attributes === undefined
        ? undefined
        : typeof attributes === 'string'
          ? attributes
          : JSON.stringify(attributes),
    dateCreated: m.dateCreated ?? undefined,
    participantSid: m.participantSid ?? undefined,
    media: (m.attachedMedia ?? []).map((x) => ({
      sid: x.sid,
      contentType: x.contentType,
      filename: x.filename ?? undefined,
    })),
  };
}
