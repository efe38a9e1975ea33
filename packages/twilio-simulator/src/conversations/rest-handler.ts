import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CONVERSATION_ERRORS,
  SimRestError,
  type ConversationState,
  type ConversationsBackend,
  type SimConversation,
  type SimMessage,
  type SimParticipant,
} from './conversations-backend';

/**
 * The Conversations REST API (conversations.twilio.com/v1) the connector
 * calls: conversations, participants (join/leave), messages (replies and
 * listing) and ParticipantConversations (find closed conversations to leave).
 * Paths work with or without the `/v1/Services/{ChatServiceSid}` prefix.
 * `handle()` answers only paths it owns and returns false otherwise, so the
 * REST simulator can mount it in front of its own routes.
 */
export const CONVERSATIONS_REST_BASE = 'https://conversations.twilio.com';

export interface RestHandlerOptions {
  /** Basic-auth user → password accepted (account SID/auth token, API key SID/secret); empty = no check. */
  credentials?: Readonly<Record<string, string>>;
  /** Called for every request it handles, for tests. */
  onRequest?(method: string, path: string, params: Record<string, string[]>): void;
}

type Params = Record<string, string[]>;
interface Answer {
  status: number;
  body?: unknown;
}

const PREFIX = /^\/v1(?:\/Services\/(IS[0-9a-fA-F]{32}))?/;

export function ownsConversationsPath(pathname: string): boolean {
  const m = PREFIX.exec(pathname);
  if (!m) return false;
  const rest = pathname.slice(m[0].length);
  return (
    rest.startsWith('/Conversations') ||
    rest.startsWith('/ParticipantConversations') ||
    (m[1] !== undefined && rest === '/Media')
  );
}

export function createConversationsRestHandler(backend: ConversationsBackend, options: RestHandlerOptions = {}) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    if (!ownsConversationsPath(url.pathname)) return false;
    const params: Params = {};
    const add = (k: string, v: string) => (params[k] ??= []).push(v);
    url.searchParams.forEach((v, k) => add(k, v));
    const raw = await readBody(req);
    const isMedia = url.pathname.endsWith('/Media') && req.method === 'POST';
    if (raw.length > 0 && !isMedia) new URLSearchParams(raw.toString('utf8')).forEach((v, k) => add(k, v));
    options.onRequest?.(req.method ?? 'GET', url.pathname, params);
    let answer: Answer;
    if (!authorized(req, options.credentials)) {
      answer = {
        status: 401,
        body: {
          code: 20003,
          message: 'Authenticate',
          more_info: 'https://www.twilio.com/docs/errors/20003',
          status: 401,
        },
      };
    } else {
      try {
        answer = isMedia ? uploadMedia(backend, req, raw) : route(backend, req.method ?? 'GET', url.pathname, params);
      } catch (err) {
        if (!(err instanceof SimRestError)) throw err;
        answer = { status: err.body.status, body: err.body };
      }
    }
    res.statusCode = answer.status;
    if (answer.body === undefined) {
      res.end();
    } else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer.body));
    }
    return true;
  };
}

function authorized(req: IncomingMessage, credentials: Readonly<Record<string, string>> | undefined): boolean {
  if (!credentials || Object.keys(credentials).length === 0) return true;
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 && credentials[decoded.slice(0, i)] === decoded.slice(i + 1);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** MCS `POST /v1/Services/{IS}/Media`: raw bytes in, a media resource (`ME…`) out. */
function uploadMedia(backend: ConversationsBackend, req: IncomingMessage, raw: Buffer): Answer {
  if (raw.length === 0) throw CONVERSATION_ERRORS.badRequest('media body is empty');
  const disposition = req.headers['content-disposition'] ?? '';
  const filename = /filename="([^"]*)"/.exec(disposition)?.[1] ?? null;
  const media = backend.storeMedia({
    contentType: req.headers['content-type'] ?? 'application/octet-stream',
    filename,
    size: raw.length,
  });
  return {
    status: 201,
    body: {
      sid: media.sid,
      service_sid: backend.serviceSid,
      account_sid: backend.accountSid,
      content_type: media.contentType,
      filename: media.filename,
      size: media.size,
      category: 'media',
      date_created: new Date().toISOString(),
      url: `/v1/Services/${backend.serviceSid}/Media/${media.sid}`,
    },
  };
}

function one(params: Params, name: string): string | undefined {
  return params[name]?.[0];
}

function route(backend: ConversationsBackend, method: string, pathname: string, params: Params): Answer {
  const m = PREFIX.exec(pathname)!;
  if (m[1] !== undefined && m[1] !== backend.serviceSid) throw CONVERSATION_ERRORS.notFound(`/Services/${m[1]}`);
  const base = `${CONVERSATIONS_REST_BASE}${m[0]}`;
  const parts = pathname.slice(m[0].length).split('/').filter(Boolean).map(decodeURIComponent);
  const [root, ch, sub, id] = parts;

  if (root === 'ParticipantConversations' && parts.length === 1 && method === 'GET') {
    const identity = one(params, 'Identity');
    if (!identity) throw CONVERSATION_ERRORS.badRequest('Identity or Address is required');
    const rows = backend
      .conversationsOf(identity)
      .map(({ conversation, participant }) => participantConversationJson(backend, base, conversation, participant));
    return { status: 200, body: page(rows, 'conversations', `${base}/ParticipantConversations`, params) };
  }
  if (root !== 'Conversations') throw CONVERSATION_ERRORS.notFound(pathname);

  if (ch === undefined) {
    if (method === 'POST') {
      const c = backend.createConversation({
        ...(one(params, 'FriendlyName') !== undefined ? { friendlyName: one(params, 'FriendlyName')! } : {}),
        ...(one(params, 'UniqueName') !== undefined ? { uniqueName: one(params, 'UniqueName')! } : {}),
        ...(one(params, 'Attributes') !== undefined ? { attributes: one(params, 'Attributes')! } : {}),
      });
      const state = one(params, 'State');
      if (state) backend.setState(c.sid, parseState(state));
      return { status: 201, body: conversationJson(backend, base, c) };
    }
    if (method === 'GET') {
      const rows = [...backend.conversations.values()].map((c) => conversationJson(backend, base, c));
      return { status: 200, body: page(rows, 'conversations', `${base}/Conversations`, params) };
    }
  }
  const c = backend.conversation(ch!);

  if (sub === undefined) {
    if (method === 'GET') return { status: 200, body: conversationJson(backend, base, c) };
    if (method === 'POST') {
      const state = one(params, 'State');
      if (state) backend.setState(c.sid, parseState(state));
      return { status: 200, body: conversationJson(backend, base, c) };
    }
  }

  if (sub === 'Participants') {
    if (id === undefined && method === 'POST') {
      const identity = one(params, 'Identity');
      const address = one(params, 'MessagingBinding.Address');
      const proxy = one(params, 'MessagingBinding.ProxyAddress');
      const p = backend.addParticipant(c.sid, {
        ...(identity ? { identity } : {}),
        ...(address ? { address } : {}),
        ...(proxy ? { proxyAddress: proxy } : {}),
      });
      return { status: 201, body: participantJson(backend, base, c, p) };
    }
    if (id === undefined && method === 'GET') {
      const rows = [...c.participants.values()].map((p) => participantJson(backend, base, c, p));
      return { status: 200, body: page(rows, 'participants', `${base}/Conversations/${c.sid}/Participants`, params) };
    }
    if (id !== undefined && method === 'GET') {
      return { status: 200, body: participantJson(backend, base, c, backend.participant(c.sid, id)) };
    }
    if (id !== undefined && method === 'POST') {
      const p = backend.participant(c.sid, id);
      const horizon = one(params, 'LastReadMessageIndex');
      if (horizon !== undefined && p.identity)
        backend.setReadHorizon(c.sid, p.identity, horizon === '' ? null : Number(horizon));
      return { status: 200, body: participantJson(backend, base, c, p) };
    }
    if (id !== undefined && method === 'DELETE') {
      backend.removeParticipant(c.sid, id);
      return { status: 204 };
    }
  }

  if (sub === 'Messages') {
    if (id === undefined && method === 'POST') {
      const body = one(params, 'Body');
      const mediaSids = params.MediaSid ?? [];
      if ((body === undefined || body === '') && mediaSids.length === 0) {
        throw CONVERSATION_ERRORS.badRequest('Message body or media is required');
      }
      const msg = backend.addMessage(c.sid, {
        author: one(params, 'Author') ?? 'system',
        body: body ?? null,
        ...(one(params, 'Attributes') !== undefined ? { attributes: one(params, 'Attributes')! } : {}),
        media: mediaSids.map((sid) => {
          const stored = backend.media.get(sid);
          if (!stored) throw CONVERSATION_ERRORS.badRequest(`Media ${sid} does not exist`);
          return stored;
        }),
      });
      return { status: 201, body: messageJson(backend, base, c, msg) };
    }
    if (id === undefined && method === 'GET') {
      const rows = [...c.messages];
      if (one(params, 'Order') === 'desc') rows.reverse();
      return {
        status: 200,
        body: page(
          rows.map((x) => messageJson(backend, base, c, x)),
          'messages',
          `${base}/Conversations/${c.sid}/Messages`,
          params,
        ),
      };
    }
    if (id !== undefined && method === 'GET') {
      const msg = c.messages.find((x) => x.sid === id || String(x.index) === id);
      if (!msg) throw CONVERSATION_ERRORS.notFound(`/Messages/${id}`);
      return { status: 200, body: messageJson(backend, base, c, msg) };
    }
  }
  throw CONVERSATION_ERRORS.notFound(pathname);
}

function parseState(s: string): ConversationState {
  if (s === 'active' || s === 'inactive' || s === 'closed') return s;
  throw CONVERSATION_ERRORS.badRequest(`Invalid State ${s}`);
}

/** Twilio's v1 paging: `PageSize`, `PageToken` (here `PT<offset>`), `meta.next_page_url`. */
function page(rows: unknown[], key: string, url: string, params: Params): Record<string, unknown> {
  const size = Math.min(Math.max(Number(one(params, 'PageSize') ?? 50) || 50, 1), 1000);
  const token = one(params, 'PageToken');
  const offset = token && /^PT\d+$/.test(token) ? Number(token.slice(2)) : 0;
  const slice = rows.slice(offset, offset + size);
  const extra = [...Object.entries(params)]
    .filter(([k]) => k !== 'PageSize' && k !== 'PageToken' && k !== 'Page')
    .flatMap(([k, vs]) => vs.map((v) => `&${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('');
  const pageUrl = (o: number) =>
    `${url}?PageSize=${size}&Page=${Math.floor(o / size)}${o > 0 ? `&PageToken=PT${o}` : ''}${extra}`;
  return {
    [key]: slice,
    meta: {
      page: Math.floor(offset / size),
      page_size: size,
      first_page_url: pageUrl(0),
      previous_page_url: offset > 0 ? pageUrl(Math.max(0, offset - size)) : null,
      url: pageUrl(offset),
      next_page_url: offset + size < rows.length ? pageUrl(offset + size) : null,
      key,
    },
  };
}

function conversationJson(b: ConversationsBackend, base: string, c: SimConversation): Record<string, unknown> {
  const url = `${base}/Conversations/${c.sid}`;
  return {
    account_sid: b.accountSid,
    chat_service_sid: b.serviceSid,
    messaging_service_sid: null,
    sid: c.sid,
    friendly_name: c.friendlyName,
    unique_name: c.uniqueName,
    attributes: c.attributes,
    state: c.state,
    date_created: isoSeconds(c.dateCreated),
    date_updated: isoSeconds(c.dateUpdated),
    timers: {},
    bindings: null,
    url,
    links: { participants: `${url}/Participants`, messages: `${url}/Messages`, webhooks: `${url}/Webhooks` },
  };
}

function participantJson(
  b: ConversationsBackend,
  base: string,
  c: SimConversation,
  p: SimParticipant,
): Record<string, unknown> {
  return {
    account_sid: b.accountSid,
    chat_service_sid: b.serviceSid,
    conversation_sid: c.sid,
    sid: p.sid,
    identity: p.identity,
    attributes: '{}',
    messaging_binding: p.address ? { type: 'sms', address: p.address, proxy_address: p.proxyAddress } : null,
    role_sid: null,
    date_created: isoSeconds(p.dateCreated),
    date_updated: isoSeconds(p.dateCreated),
    url: `${base}/Conversations/${c.sid}/Participants/${p.sid}`,
    last_read_message_index: p.lastReadMessageIndex,
    last_read_timestamp: null,
  };
}

function participantConversationJson(
  b: ConversationsBackend,
  base: string,
  c: SimConversation,
  p: SimParticipant,
): Record<string, unknown> {
  return {
    account_sid: b.accountSid,
    chat_service_sid: b.serviceSid,
    participant_sid: p.sid,
    participant_user_sid: null,
    participant_identity: p.identity,
    participant_messaging_binding: null,
    conversation_sid: c.sid,
    conversation_unique_name: c.uniqueName,
    conversation_friendly_name: c.friendlyName,
    conversation_attributes: c.attributes,
    conversation_date_created: isoSeconds(c.dateCreated),
    conversation_date_updated: isoSeconds(c.dateUpdated),
    conversation_created_by: 'system',
    conversation_state: c.state,
    conversation_timers: {},
    links: {
      participant: `${base}/Conversations/${c.sid}/Participants/${p.sid}`,
      conversation: `${base}/Conversations/${c.sid}`,
    },
  };
}

function messageJson(
  b: ConversationsBackend,
  base: string,
  c: SimConversation,
  m: SimMessage,
): Record<string, unknown> {
  const url = `${base}/Conversations/${c.sid}/Messages/${m.sid}`;
  return {
    account_sid: b.accountSid,
    chat_service_sid: b.serviceSid,
    conversation_sid: c.sid,
    sid: m.sid,
    index: m.index,
    author: m.author,
    body: m.body,
    media:
      m.media.length > 0
        ? m.media.map((x) => ({
            sid: x.sid,
            size: x.size,
            content_type: x.contentType,
            filename: x.filename,
            category: 'media',
          }))
        : null,
    attributes: m.attributes,
    participant_sid: m.participantSid,
    date_created: isoSeconds(m.dateCreated),
    date_updated: isoSeconds(m.dateCreated),
    delivery: null,
    content_sid: null,
    url,
    links: { delivery_receipts: `${url}/Receipts`, channel_metadata: `${url}/ChannelMetadata` },
  };
}

/** Conversations REST dates are ISO-8601 without milliseconds. */
function isoSeconds(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}
