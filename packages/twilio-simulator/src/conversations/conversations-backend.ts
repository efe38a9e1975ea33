import { customTwilioError, type TwilioErrorBody } from '../twilio-errors';
import type { SeededRng } from '../rng';
import { SyncStore, type SyncObject } from './sync-store';

/**
 * The Conversations service as the simulator keeps it: conversations, their
 * participants and messages, and the Sync objects the SDK reads them through
 * (a document per conversation, a messages list, a roster map, and per
 * identity a map of the conversations it has joined).
 */
export type ConversationState = 'active' | 'inactive' | 'closed';

export interface SimMedia {
  sid: string;
  contentType: string;
  filename: string | null;
  size: number;
}

export interface SimMessage {
  sid: string;
  index: number;
  author: string;
  body: string | null;
  attributes: string;
  participantSid: string | null;
  media: SimMedia[];
  dateCreated: string;
}

export interface SimParticipant {
  sid: string;
  identity: string | null;
  address: string | null;
  proxyAddress: string | null;
  lastReadMessageIndex: number | null;
  dateCreated: string;
}

export interface SimConversation {
  sid: string;
  uniqueName: string | null;
  friendlyName: string | null;
  attributes: string;
  state: ConversationState;
  dateCreated: string;
  dateUpdated: string;
  participants: Map<string, SimParticipant>;
  messages: SimMessage[];
  document: SyncObject;
  messageList: SyncObject;
  roster: SyncObject;
}

/** A REST-level failure with Twilio's error body. */
export class SimRestError extends Error {
  constructor(readonly body: TwilioErrorBody) {
    super(body.message);
    this.name = 'SimRestError';
  }
}

export const CONVERSATION_ERRORS = {
  notFound: (what: string) =>
    new SimRestError(customTwilioError(20404, 404, `The requested resource ${what} was not found`)),
  participantExists: () => new SimRestError(customTwilioError(50433, 409, 'Participant already exists')),
  identityLimit: (limit: number) =>
    new SimRestError(
      customTwilioError(50214, 400, `Identity is already a participant in the maximum of ${limit} conversations`),
    ),
  badRequest: (message: string) => new SimRestError(customTwilioError(20001, 400, message)),
};

export interface BackendHooks {
  conversationAdded?(c: SimConversation): void;
  messageAdded?(c: SimConversation, m: SimMessage): void;
}

export interface BackendOptions {
  accountSid: string;
  serviceSid: string;
  rng: SeededRng;
  now: () => number;
  /** How many conversations one identity may be in (Twilio: 1,000, error 50214). */
  identityConversationLimit?: number;
}

export class ConversationsBackend {
  readonly sync: SyncStore;
  readonly accountSid: string;
  readonly serviceSid: string;
  readonly conversations = new Map<string, SimConversation>();
  /** Uploaded media (MCS), by `ME…` SID. */
  readonly media = new Map<string, SimMedia>();
  private readonly userMaps = new Map<string, SyncObject>();
  private readonly userInfos = new Map<string, SyncObject>();
  private readonly limit: number;
  hooks: BackendHooks = {};

  constructor(private readonly opts: BackendOptions) {
    this.sync = new SyncStore(opts.rng, opts.now);
    this.accountSid = opts.accountSid;
    this.serviceSid = opts.serviceSid;
    this.limit = opts.identityConversationLimit ?? 1000;
  }

  createConversation(input: { friendlyName?: string; uniqueName?: string; attributes?: string } = {}): SimConversation {
    if (input.uniqueName !== undefined) {
      for (const c of this.conversations.values()) {
        if (c.uniqueName === input.uniqueName)
          throw CONVERSATION_ERRORS.badRequest('Conversation with provided unique name already exists');
      }
    }
    const sid = this.opts.rng.sid('CH');
    const now = this.iso();
    const messageList = this.sync.create('list', `${sid}.messages`);
    const roster = this.sync.create('map', `${sid}.roster`);
    const c: SimConversation = {
      sid,
      uniqueName: input.uniqueName ?? null,
      friendlyName: input.friendlyName ?? null,
      attributes: input.attributes ?? '{}',
      state: 'active',
      dateCreated: now,
      dateUpdated: now,
      participants: new Map(),
      messages: [],
      messageList,
      roster,
      document: this.sync.create('document', `${sid}.conversation`),
    };
    this.sync.updateDocument(c.document, this.documentData(c));
    this.conversations.set(sid, c);
    this.hooks.conversationAdded?.(c);
    return c;
  }

  conversation(sidOrUniqueName: string): SimConversation {
    const c =
      this.conversations.get(sidOrUniqueName) ??
      [...this.conversations.values()].find((x) => x.uniqueName === sidOrUniqueName);
    if (!c) throw CONVERSATION_ERRORS.notFound(`/Conversations/${sidOrUniqueName}`);
    return c;
  }

  setState(conversationSid: string, state: ConversationState): void {
    const c = this.conversation(conversationSid);
    if (c.state === state) return;
    c.state = state;
    c.dateUpdated = this.iso();
    this.sync.updateDocument(c.document, this.documentData(c));
  }

  addParticipant(
    conversationSid: string,
    input: { identity?: string; address?: string; proxyAddress?: string },
  ): SimParticipant {
    const c = this.conversation(conversationSid);
    if (!input.identity && !input.address)
      throw CONVERSATION_ERRORS.badRequest('Identity or MessagingBinding.Address is required');
    for (const p of c.participants.values()) {
      if ((input.identity && p.identity === input.identity) || (input.address && p.address === input.address)) {
        throw CONVERSATION_ERRORS.participantExists();
      }
    }
    if (input.identity && this.userMap(input.identity).items.size >= this.limit) {
      throw CONVERSATION_ERRORS.identityLimit(this.limit);
    }
    const p: SimParticipant = {
      sid: this.opts.rng.sid('MB'),
      identity: input.identity ?? null,
      address: input.address ?? null,
      proxyAddress: input.proxyAddress ?? null,
      lastReadMessageIndex: null,
      dateCreated: this.iso(),
    };
    c.participants.set(p.sid, p);
    this.sync.mapSet(c.roster, p.sid, this.rosterData(p));
    if (p.identity) this.sync.mapSet(this.userMap(p.identity), c.sid, this.userConversationData(c, p));
    return p;
  }

  participant(conversationSid: string, sidOrIdentity: string): SimParticipant {
    const c = this.conversation(conversationSid);
    const p =
      c.participants.get(sidOrIdentity) ?? [...c.participants.values()].find((x) => x.identity === sidOrIdentity);
    if (!p) throw CONVERSATION_ERRORS.notFound(`/Participants/${sidOrIdentity}`);
    return p;
  }

  removeParticipant(conversationSid: string, sidOrIdentity: string): void {
    const c = this.conversation(conversationSid);
    const p = this.participant(conversationSid, sidOrIdentity);
    c.participants.delete(p.sid);
    this.sync.mapRemove(c.roster, p.sid);
    if (p.identity) this.sync.mapRemove(this.userMap(p.identity), c.sid);
  }

  addMessage(
    conversationSid: string,
    input: { author: string; body?: string | null; attributes?: string; media?: Omit<SimMedia, 'sid'>[] },
  ): SimMessage {
    const c = this.conversation(conversationSid);
    if (c.state === 'closed') throw CONVERSATION_ERRORS.badRequest('Conversation is closed');
    const author = input.author;
    const participant = [...c.participants.values()].find((p) => p.identity === author || p.address === author);
    const media = (input.media ?? []).map((m) =>
      'sid' in m && typeof m.sid === 'string' ? (m as SimMedia) : { ...m, sid: this.opts.rng.sid('ME') },
    );
    const m: SimMessage = {
      sid: this.opts.rng.sid('IM'),
      index: c.messageList.nextIndex,
      author,
      body: input.body ?? null,
      attributes: input.attributes ?? '{}',
      participantSid: participant?.sid ?? null,
      media,
      dateCreated: this.iso(),
    };
    c.messages.push(m);
    const item = this.sync.listAppend(c.messageList, this.messageData(m));
    if (item.index !== m.index) throw new Error('message index drifted from its list index');
    this.hooks.messageAdded?.(c, m);
    return m;
  }

  storeMedia(input: Omit<SimMedia, 'sid'>): SimMedia {
    const media = { ...input, sid: this.opts.rng.sid('ME') };
    this.media.set(media.sid, media);
    return media;
  }

  /** The read horizon a participant reports (`POST …/Users/Me/Conversations/CH`). */
  setReadHorizon(conversationSid: string, identity: string, index: number | null): number {
    const c = this.conversation(conversationSid);
    const p = this.participant(conversationSid, identity);
    p.lastReadMessageIndex = index;
    this.sync.mapSet(this.userMap(identity), c.sid, this.userConversationData(c, p));
    const last = c.messages.at(-1)?.index;
    return last === undefined || index === null ? c.messages.length : Math.max(0, last - index);
  }

  /** Conversations `identity` participates in. */
  conversationsOf(identity: string): { conversation: SimConversation; participant: SimParticipant }[] {
    const out: { conversation: SimConversation; participant: SimParticipant }[] = [];
    for (const c of this.conversations.values()) {
      for (const p of c.participants.values())
        if (p.identity === identity) out.push({ conversation: c, participant: p });
    }
    return out;
  }

  /** The identity's map of joined conversations (created on first use, like the service does per user). */
  userMap(identity: string): SyncObject {
    let map = this.userMaps.get(identity);
    if (!map) {
      map = this.sync.create('map', `${identity}.conversations`);
      this.userMaps.set(identity, map);
    }
    return map;
  }

  userInfo(identity: string): SyncObject {
    let map = this.userInfos.get(identity);
    if (!map) {
      map = this.sync.create('map', `${identity}.userInfo`);
      this.sync.mapSet(map, 'friendlyName', { value: null });
      this.sync.mapSet(map, 'attributes', { value: '{}' });
      this.userInfos.set(identity, map);
    }
    return map;
  }

  /** What the SDK reads from `GET …/Users/Me/Conversations` for each joined conversation. */
  myConversationDescriptor(c: SimConversation, p: SimParticipant): Record<string, unknown> {
    return {
      conversation_sid: c.sid,
      status: 'joined',
      last_read_message_index: p.lastReadMessageIndex,
      notification_level: 'default',
      sync_objects: { conversation: c.document.sid, messages: c.messageList.sid, participants: c.roster.sid },
    };
  }

  private userConversationData(c: SimConversation, p: SimParticipant): Record<string, unknown> {
    return {
      channel_sid: c.sid,
      status: 'joined',
      channel: c.document.sid,
      messages: c.messageList.sid,
      roster: c.roster.sid,
      lastConsumedMessageIndex: p.lastReadMessageIndex,
      notificationLevel: 'default',
    };
  }

  private documentData(c: SimConversation): Record<string, unknown> {
    return {
      messages: c.messageList.sid,
      roster: c.roster.sid,
      uniqueName: c.uniqueName,
      friendlyName: c.friendlyName,
      attributes: c.attributes,
      dateCreated: c.dateCreated,
      dateUpdated: c.dateUpdated,
      createdBy: 'system',
      state: { current: c.state, dateUpdated: c.dateUpdated },
    };
  }

  private rosterData(p: SimParticipant): Record<string, unknown> {
    return {
      sid: p.sid,
      identity: p.identity,
      type: p.identity ? 'chat' : 'sms',
      attributes: '{}',
      bindings: p.address ? { sms: { address: p.address, proxy_address: p.proxyAddress } } : {},
      dateCreated: p.dateCreated,
      dateUpdated: p.dateCreated,
      lastConsumedMessageIndex: p.lastReadMessageIndex,
    };
  }

  private messageData(m: SimMessage): Record<string, unknown> {
    return {
      sid: m.sid,
      author: m.author,
      text: m.body,
      attributes: m.attributes,
      timestamp: m.dateCreated,
      dateUpdated: m.dateCreated,
      memberSid: m.participantSid,
      type: m.media.length > 0 ? 'media' : 'text',
      ...(m.media.length > 0
        ? {
            medias: m.media.map((x) => ({
              sid: x.sid,
              category: 'media',
              filename: x.filename,
              contentType: x.contentType,
              size: x.size,
            })),
          }
        : {}),
    };
  }

  private iso(): string {
    return new Date(this.opts.now()).toISOString();
  }
}
