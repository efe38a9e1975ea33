import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger, Metrics } from '../../observability';
import { parseFormBody, parseJsonBody, SignatureVerifier, type WebhookBody } from '../webhooks';
import type { ConversationMessage } from './conversations-adapter';
import type { ConversationMembership } from './conversation-membership';
import { ConversationsRestError } from './conversations-rest';
import { StoppedError, type IngestOutcome } from './inbound-message-publisher';
import { isSid, SID_PREFIX } from '../rest/sid';
import { recordSignatureFailure } from '../webhooks/webhook-routes';

/**
 * `POST /webhooks/twilio/conversations`: Conversations post-event webhooks,
 * signed like every Twilio webhook.
 * - `onConversationAdded`: the identity joins the conversation over REST, so
 *   the session starts receiving it (answered 200 once joined, 503 when the
 *   join may succeed later, so Twilio retries).
 * - `onMessageAdded`: the message is published now, deduplicated with the
 *   socket (200 after Kafka acknowledged, 503 when it did not in time).
 * Other event types are acknowledged and ignored.
 */
export const CONVERSATIONS_WEBHOOK_PATH = '/webhooks/twilio/conversations';

export interface ConversationsWebhookDeps {
  /** Undefined only when validation is off (refused by config in production). */
  verifier: SignatureVerifier | undefined;
  membership: ConversationMembership;
  ingest(message: ConversationMessage, signal: AbortSignal): Promise<IngestOutcome>;
  logger: Logger;
  metrics: Metrics;
  /** Longest wait for Kafka before answering 503; below Twilio's 5 s Conversations timeout. */
  publishTimeoutMs?: number;
}

export function conversationsWebhookRoute(deps: ConversationsWebhookDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    await app.register(async (scope) => register(scope, deps));
  };
}

function register(scope: FastifyInstance, deps: ConversationsWebhookDeps): void {
  const { logger, metrics } = deps;
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, parseFormBody(body as string)),
  );
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  scope.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error({ err }, 'Conversations webhook failed unexpectedly');
    return refuse(
      reply,
      status,
      status === 500 ? 'internal' : 'bad_request',
      status === 500 ? 'internal error' : err.message,
    );
  });
  const latency = metrics.webhookLatency.labels(CONVERSATIONS_WEBHOOK_PATH);
  const timedOut = metrics.webhookTimeouts.labels(CONVERSATIONS_WEBHOOK_PATH);
  timedOut.inc(0);
  scope.addHook('onResponse', async (_req, reply) => {
    latency.observe(reply.elapsedTime / 1000);
    metrics.webhookRequests.labels(CONVERSATIONS_WEBHOOK_PATH, String(reply.statusCode)).inc();
  });

  scope.post(CONVERSATIONS_WEBHOOK_PATH, async (req, reply) => {
    const body = req.body as WebhookBody | undefined;
    if (!body || typeof body !== 'object' || !('params' in body)) {
      return refuse(reply, 400, 'bad_request', 'body must be form-encoded or JSON Twilio parameters');
    }
    if (deps.verifier) {
      const check = deps.verifier.verify(header(req, 'x-twilio-signature'), req.url, body);
      if (!check.ok) {
        recordSignatureFailure(metrics, check.reason);
        return refuse(reply, check.status, `signature_${check.reason}`, 'X-Twilio-Signature refused');
      }
    }
    const p = (name: string): string | undefined => {
      const v = body.params[name];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const eventType = p('EventType');
    const conversationSid = p('ConversationSid');
    if (conversationSid && !isSid(conversationSid, SID_PREFIX.conversation)) {
      return refuse(reply, 400, 'invalid_payload', 'ConversationSid is not a conversation SID');
    }
    if (eventType === 'onConversationAdded') {
      if (!conversationSid) return refuse(reply, 400, 'invalid_payload', 'ConversationSid is required');
      try {
        const outcome = await deps.membership.join(conversationSid);
        return reply.code(200).send({ outcome });
      } catch (err) {
        const retriable = !(err instanceof ConversationsRestError) || err.retriable;
        logger.warn({ err, conversationSid }, 'could not join the announced conversation');
        return retriable
          ? refuse(reply, 503, 'join_failed', 'joining the conversation failed; retry later')
          : reply.code(200).send({ outcome: 'refused' });
      }
    }
    if (eventType === 'onMessageAdded') {
      const read = readMessage(p, body.params.Media);
      if (!read.ok) return refuse(reply, 400, 'invalid_payload', read.reason);
      const { message } = read;
      const signal = AbortSignal.timeout(deps.publishTimeoutMs ?? 4000);
      try {
        const outcome = await deps.ingest(message, signal);
        if (outcome === 'invalid') return refuse(reply, 400, 'invalid_payload', 'message cannot become a valid event');
        return reply.code(200).send({ outcome });
      } catch (err) {
        if (err instanceof StoppedError) {
          // The answer deadline passed before Kafka acknowledged (rather than the service stopping).
          if (signal.aborted) timedOut.inc();
          return refuse(reply, 503, 'kafka_unavailable', 'the message could not be stored; retry later');
        }
        throw err;
      }
    }
    return reply.code(200).send({ outcome: 'ignored' });
  });
}

type Read<T> = { ok: true; message: T } | { ok: false; reason: string };

function readMessage(
  p: (name: string) => string | undefined,
  rawMedia: string | string[] | undefined,
): Read<ConversationMessage> {
  const conversationSid = p('ConversationSid');
  const messageSid = p('MessageSid');
  const index = Number(p('Index'));
  if (!conversationSid || !messageSid || !Number.isInteger(index) || index < 0) {
    return { ok: false, reason: 'ConversationSid, MessageSid and Index are required' };
  }
  if (!isSid(messageSid, SID_PREFIX.conversationMessage))
    return { ok: false, reason: 'MessageSid is not a message SID' };
  const participantSid = p('ParticipantSid');
  if (participantSid !== undefined && !isSid(participantSid, SID_PREFIX.participant)) {
    return { ok: false, reason: 'ParticipantSid is not a participant SID' };
  }
  const media = readMedia(typeof rawMedia === 'string' ? rawMedia : undefined);
  const bad = media.findIndex((m) => !isSid(m.sid, SID_PREFIX.media));
  if (bad >= 0) return { ok: false, reason: `Media[${bad}].Sid is not a media SID` };
  const created = p('DateCreated');
  const date = created ? new Date(created) : undefined;
  return {
    ok: true,
    message: {
      conversationSid,
      messageSid,
      index,
      author: p('Author') ?? null,
      body: p('Body') ?? null,
      attributes: p('Attributes'),
      dateCreated: date && !Number.isNaN(date.getTime()) ? date : undefined,
      participantSid,
      media,
    },
  };
}

/** `Media` is a JSON array of `{Sid, ContentType, Filename}`; entries without a Sid string are left out. */
function readMedia(raw: string | undefined): ConversationMessage['media'] {
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) return [];
    return list.flatMap((m: { Sid?: unknown; ContentType?: unknown; Filename?: unknown }) =>
      typeof m?.Sid === 'string'
        ? [
            {
              sid: m.Sid,
              contentType: typeof m.ContentType === 'string' ? m.ContentType : 'application/octet-stream',
              filename: typeof m.Filename === 'string' ? m.Filename : undefined,
            },
          ]
        : [],
    );
  } catch {
    return [];
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function refuse(reply: FastifyReply, status: number, error: string, reason: string): FastifyReply {
  if (status === 503) reply.header('retry-after', '2');
  return reply.code(status).send({ error, reason });
}
