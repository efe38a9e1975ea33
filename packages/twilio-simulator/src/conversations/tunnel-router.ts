import type { ConversationsBackend } from './conversations-backend';
import { SimRestError } from './conversations-backend';
import type { SyncObject, SyncObjectType } from './sync-store';

/**
 * Answers the HTTP requests the SDK tunnels through the socket: the client
 * configuration and "my conversations" on the chat host (aim), and Sync
 * objects on the CDS host. Subscriptions (`POST /v4/Subscriptions`) need the
 * socket session and are answered there.
 */
export interface TunnelRequest {
  host: string;
  path: string;
  method: string;
  params: Record<string, string | string[]>;
  body: unknown;
}

export interface TunnelResponse {
  code: number;
  body?: unknown;
}

export const AIM_BASE = 'https://aim.us1.twilio.com';
export const MCS_BASE = 'https://mcs.us1.twilio.com';
export const SUBSCRIPTIONS_PATH = '/v4/Subscriptions';

const TYPE_OF_PATH: Record<string, SyncObjectType> = { Documents: 'document', Lists: 'list', Maps: 'map' };

export function routeTunnelRequest(
  backend: ConversationsBackend,
  identity: string,
  req: TunnelRequest,
): TunnelResponse {
  try {
    return route(backend, identity, req);
  } catch (err) {
    if (err instanceof SimRestError) return { code: err.body.status, body: err.body };
    throw err;
  }
}

function route(backend: ConversationsBackend, identity: string, req: TunnelRequest): TunnelResponse {
  const path = req.path.replace(/\/+$/, '');
  const param = (name: string): string | undefined => {
    const v = req.params[name];
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined ? undefined : decodeURIComponent(s);
  };

  if (req.method === 'GET' && path === '/Client/v2/Configuration')
    return { code: 200, body: configuration(backend, identity) };

  if (path === '/Client/v2/Me/Conversations' && req.method === 'GET') {
    const conversations = backend
      .conversationsOf(identity)
      .map(({ conversation, participant }) => backend.myConversationDescriptor(conversation, participant));
    return { code: 200, body: { conversations, meta: { next_token: null, previous_token: null } } };
  }

  const horizon = /^\/Client\/v2\/Me\/Conversations\/(CH[0-9a-f]{32})$/.exec(path);
  if (horizon && req.method === 'POST') {
    const body = (typeof req.body === 'string' ? JSON.parse(req.body) : req.body) as {
      last_read_message_index?: unknown;
    };
    const index = body?.last_read_message_index;
    if (index !== null && typeof index !== 'number') {
      return {
        code: 400,
        body: { code: 20001, message: 'last_read_message_index must be a number or null', status: 400 },
      };
    }
    const unread = backend.setReadHorizon(horizon[1]!, identity, index);
    return { code: 200, body: { unread_messages_count: unread } };
  }

  const sync = /^\/v3\/(Documents|Lists|Maps)\/([^/]+)(?:\/(Items|Context))?$/.exec(path);
  if (sync && req.method === 'GET') {
    const type = TYPE_OF_PATH[sync[1]!]!;
    const obj = backend.sync.get(type, decodeURIComponent(sync[2]!));
    if (!obj) return notFound(path);
    if (sync[3] === undefined) return { code: 200, body: backend.sync.descriptor(obj, param('Include') === 'items') };
    if (sync[3] === 'Context') return { code: 200, body: { data: {}, last_event_id: obj.lastEventId } };
    return { code: 200, body: queryItems(backend, obj, param) };
  }

  return notFound(path);
}

function notFound(path: string): TunnelResponse {
  return { code: 404, body: { code: 54100, message: `Not found: ${path}`, status: 404 } };
}

function configuration(backend: ConversationsBackend, identity: string): Record<string, unknown> {
  const service = backend.serviceSid;
  return {
    identity,
    links: {
      my_conversations: `${AIM_BASE}/Client/v2/Me/Conversations`,
      conversations: `${AIM_BASE}/Client/v2/Services/${service}/Conversations`,
      users: `${AIM_BASE}/Client/v2/Services/${service}/Users`,
      current_user: `${AIM_BASE}/Client/v2/Services/${service}/Users/${encodeURIComponent(identity)}`,
      typing: `${AIM_BASE}/Client/v2/Services/${service}/Typing`,
      media_service: `${MCS_BASE}/v1/Services/${service}/Media`,
      media_set_service: `${MCS_BASE}/v1/Services/${service}/MediaSet`,
      messages_receipts: `${AIM_BASE}/Client/v2/Services/${service}/Conversations/%s/Messages/%s/Receipts`,
    },
    options: {
      consumption_report_interval: 'PT5S',
      user_infos_to_subscribe: 100,
      reachability_enabled: false,
      http_cache_interval: 'PT5S',
      media_attachments_count_limit: 10,
      media_attachment_size_limit_in_mb: 5,
      media_attachments_total_size_limit_in_mb: 5,
      email_histories_allowed_mime_types: [],
      email_bodies_allowed_mime_types: [],
    },
    sync_objects: {
      my_conversations: backend.userMap(identity).sid,
      my_user_info: backend.userInfo(identity).sid,
    },
  };
}

/**
 * Sync item queries: `Index`/`Key` for one item, else `From` (inclusive),
 * `PageSize` and `Order`. The SDK pages by asking again `From` the last item
 * it has, so the tokens only need to say whether more items exist.
 */
function queryItems(
  backend: ConversationsBackend,
  obj: SyncObject,
  param: (name: string) => string | undefined,
): Record<string, unknown> {
  const all = [...obj.items.values()];
  const single = obj.type === 'list' ? param('Index') : param('Key');
  if (single !== undefined) {
    const item = obj.items.get(single);
    return {
      items: item ? [backend.sync.itemDescriptor(obj, item)] : [],
      meta: { next_token: null, previous_token: null },
    };
  }
  const order = param('Order') === 'desc' ? 'desc' : 'asc';
  const pageSize = Math.min(Math.max(Number(param('PageSize') ?? 50) || 50, 1), 1000);
  const from = param('From');
  const cmp =
    obj.type === 'list'
      ? (a: (typeof all)[number], b: (typeof all)[number]) => a.index! - b.index!
      : (a: (typeof all)[number], b: (typeof all)[number]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const sorted = all.sort(cmp);
  if (order === 'desc') sorted.reverse();
  const inRange = (i: (typeof all)[number]): boolean => {
    if (from === undefined) return true;
    if (obj.type === 'list') return order === 'asc' ? i.index! >= Number(from) : i.index! <= Number(from);
    return order === 'asc' ? i.key >= from : i.key <= from;
  };
  const start = sorted.findIndex(inRange);
  const begin = start < 0 ? sorted.length : start;
  const page = sorted.slice(begin, begin + pageSize);
  return {
    items: page.map((i) => backend.sync.itemDescriptor(obj, i)),
    meta: {
      previous_token: begin > 0 ? 'prev' : null,
      next_token: begin + pageSize < sorted.length ? 'next' : null,
    },
  };
}
