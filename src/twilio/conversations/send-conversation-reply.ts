import { ConversationsRestError, type ConversationsRest } from './conversations-rest';

/**
 * Egress into a conversation: the egress pipeline calls `sendConversationReply`
 * for an `sms.outbound.requested` event that carries `data.conversationSid`
 * (instead of sending an SMS with the Messages API). The message is posted
 * through the Conversations REST API authored by the connector's identity, so
 * when it comes back over the socket the ingress recognises it as its own and
 * does not re-ingest it; Twilio relays it to the SMS participants.
 *
 * Result contract (like the other egress stages): a permanent failure is a
 * value (`ok: false`, to become a rejected/failed outcome); a failure worth
 * retrying (network, timeout, 429, 5xx) is thrown as a ConversationsRestError
 * with `retriable: true`. The Conversations API has no idempotency key either:
 * after an ambiguous failure, check the conversation's latest messages before
 * sending again.
 */
export interface ConversationReply {
  conversationSid: string;
  body?: string | undefined;
  /** At most one: a Conversations REST message carries one media item. */
  mediaUrls?: readonly string[] | undefined;
  /** JSON text stored on the message (e.g. the egress request id, for reconciliation). */
  attributes?: string | undefined;
}

export type ConversationReplyResult =
  | { ok: true; conversationSid: string; messageSid: string; index: number }
  | { ok: false; code: ConversationReplyFailure; reason: string; twilioErrorCode?: number | undefined };

export type ConversationReplyFailure = 'empty_message' | 'too_many_media' | 'media_unavailable' | 'twilio_rejected';

export interface FetchedMedia {
  bytes: Uint8Array;
  contentType: string;
  filename?: string | undefined;
}

export interface ConversationReplyDeps {
  rest: ConversationsRest;
  /** The connector's Conversations identity (TWILIO_CONVERSATIONS_IDENTITY). */
  identity: string;
  /** Downloads a reply's media; defaults to fetch with a timeout and a size cap. */
  fetchMedia?: (url: string) => Promise<FetchedMedia>;
  mediaTimeoutMs?: number;
  /** Conversations accepts media up to 5 MB. */
  maxMediaBytes?: number;
}

export async function sendConversationReply(
  deps: ConversationReplyDeps,
  reply: ConversationReply,
): Promise<ConversationReplyResult> {
  const media = reply.mediaUrls ?? [];
  const body = reply.body ?? '';
  if (body === '' && media.length === 0) {
    return { ok: false, code: 'empty_message', reason: 'a conversation reply needs a body or a media URL' };
  }
  if (media.length > 1) {
    return {
      ok: false,
      code: 'too_many_media',
      reason: 'a Conversations message carries one media item; send one media URL per request',
    };
  }
  let mediaSid: string | undefined;
  if (media[0] !== undefined) {
    const fetched = await fetchMediaOrFail(deps, media[0]);
    if ('ok' in fetched) return fetched;
    mediaSid = await deps.rest.uploadMedia(fetched.bytes, fetched.contentType, fetched.filename);
  }
  try {
    const sent = await deps.rest.createMessage(reply.conversationSid, {
      author: deps.identity,
      ...(body !== '' ? { body } : {}),
      ...(mediaSid ? { mediaSid } : {}),
      ...(reply.attributes !== undefined ? { attributes: reply.attributes } : {}),
    });
    return { ok: true, conversationSid: reply.conversationSid, ...sent };
  } catch (err) {
    if (err instanceof ConversationsRestError && !err.retriable) {
      return { ok: false, code: 'twilio_rejected', reason: err.message, twilioErrorCode: err.twilioCode };
    }
    throw err;
  }
}

/** `sendConversationReply` with its dependencies bound: what the egress pipeline holds. */
export function bindConversationReply(
  deps: ConversationReplyDeps,
): (reply: ConversationReply) => Promise<ConversationReplyResult> {
  return (reply) => sendConversationReply(deps, reply);
}

async function fetchMediaOrFail(
  deps: ConversationReplyDeps,
  url: string,
): Promise<FetchedMedia | Extract<ConversationReplyResult, { ok: false }>> {
  try {
    return await (deps.fetchMedia ?? ((u) => defaultFetchMedia(u, deps)))(url);
  } catch (err) {
    if (err instanceof MediaFetchError && !err.retriable) {
      return { ok: false, code: 'media_unavailable', reason: err.message };
    }
    throw err;
  }
}

export class MediaFetchError extends ConversationsRestError {
  constructor(message: string, status: number | undefined) {
    super(message, status, undefined);
  }
}

async function defaultFetchMedia(url: string, deps: ConversationReplyDeps): Promise<FetchedMedia> {
  const max = deps.maxMediaBytes ?? 5 * 1024 * 1024;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(deps.mediaTimeoutMs ?? 10_000) });
  } catch {
    throw new MediaFetchError('media URL could not be fetched', undefined);
  }
  if (!res.ok) throw new MediaFetchError(`media URL answered ${res.status}`, res.status >= 500 ? res.status : 400);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > max) throw new MediaFetchError(`media is larger than ${max} bytes`, 400);
  const filename = new URL(url).pathname.split('/').pop() || undefined;
  return { bytes, contentType: res.headers.get('content-type') ?? 'application/octet-stream', filename };
}
