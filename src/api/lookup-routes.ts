import type { FastifyInstance } from 'fastify';
import type { TwilioMessage } from '../twilio/egress/twilio-messages-port';
import type { ApiDeps } from './api-deps';
import {
  ConsentChangeBody,
  ConsentChangedBody,
  ConsentParams,
  ConsentQuery,
  ConsentStateBody,
  ErrorBody,
  ListMessagesQuery,
  Message,
  MessageListBody,
  MessageSidParams,
} from './api-schemas';
import { ApiRequestError, parseInput, type ApiRouteSpec } from '../api-kit';
import { publishOr503 } from './publish-or-503';

const errors = {
  400: { description: 'A bad parameter (the field is named)', body: ErrorBody },
  401: { description: 'No valid token', body: ErrorBody },
  403: { description: 'The token lacks the scope', body: ErrorBody },
  429: { description: 'Over the token’s rate (see Retry-After)', body: ErrorBody },
  503: { description: 'Twilio is not enabled here, or Kafka did not acknowledge', body: ErrorBody },
};

export const MESSAGE_SPEC: ApiRouteSpec = {
  scope: 'read',
  tag: 'messages',
  summary: 'One message by its SID (Twilio’s Messages resource)',
  params: MessageSidParams,
  responses: {
    200: { description: 'The message', body: Message },
    ...errors,
    404: { description: 'No such message', body: ErrorBody },
    502: { description: 'Twilio failed the look-up', body: ErrorBody },
  },
};

export const MESSAGES_SPEC: ApiRouteSpec = {
  scope: 'read',
  tag: 'messages',
  summary: 'The account’s messages, newest first, filtered',
  query: ListMessagesQuery,
  responses: {
    200: { description: 'The messages', body: MessageListBody },
    ...errors,
    502: { description: 'Twilio failed the look-up', body: ErrorBody },
  },
};

export const CONSENT_GET_SPEC: ApiRouteSpec = {
  scope: 'read',
  tag: 'consent',
  summary: 'A number’s consent records (opt-outs and opt-ins per scope)',
  params: ConsentParams,
  query: ConsentQuery,
  responses: { 200: { description: 'The records held', body: ConsentStateBody }, ...errors },
};

export const CONSENT_POST_SPEC: ApiRouteSpec = {
  scope: 'admin',
  tag: 'consent',
  summary: 'Opt a number out or in on an operator’s word',
  description:
    'Published to the compacted consent topic as sms.consent.changed (via=api, with the reason), like a STOP/START keyword; egress honours it once Kafka acknowledged.',
  params: ConsentParams,
  body: ConsentChangeBody,
  responses: { 200: { description: 'On Kafka and applied here', body: ConsentChangedBody }, ...errors },
};

function twilioOf(deps: ApiDeps): NonNullable<ApiDeps['twilio']> {
  if (!deps.twilio) throw new ApiRequestError(503, 'unavailable', 'the Twilio connector is not enabled');
  return deps.twilio;
}

function messageJson(m: TwilioMessage) {
  return { ...m, dateCreated: m.dateCreated?.toISOString() ?? null, dateSent: m.dateSent?.toISOString() ?? null };
}

function lookupFailed(err: unknown): ApiRequestError {
  const status = (err as { status?: unknown }).status;
  if (status === 404) return new ApiRequestError(404, 'not_found', 'no such message');
  return new ApiRequestError(502, 'upstream_error', 'Twilio failed the look-up');
}

/** GET /api/messages/{sid}, GET /api/messages, GET|POST /api/consent/{number}. */
export function registerLookupRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/messages/:sid', { config: { api: MESSAGE_SPEC } }, async (req) => {
    const { sid } = parseInput(MessageSidParams, req.params, 'params');
    const m = await twilioOf(deps)
      .messages.lookup(sid)
      .catch((err: unknown) => {
        throw lookupFailed(err);
      });
    return messageJson(m);
  });
  app.get('/api/messages', { config: { api: MESSAGES_SPEC } }, async (req) => {
    const q = parseInput(ListMessagesQuery, req.query, 'query');
    const list = await twilioOf(deps)
      .messages.list({
        ...(q.to !== undefined ? { to: q.to } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.dateSentAfter !== undefined ? { dateSentAfter: new Date(q.dateSentAfter) } : {}),
        ...(q.dateSentBefore !== undefined ? { dateSentBefore: new Date(q.dateSentBefore) } : {}),
        limit: q.limit ?? 50,
      })
      .catch((err: unknown) => {
        throw lookupFailed(err);
      });
    return { messages: list.map(messageJson) };
  });
  app.get('/api/consent/:number', { config: { api: CONSENT_GET_SPEC } }, async (req) => {
    const { number } = parseInput(ConsentParams, req.params, 'params');
    const { accountSid: asked } = parseInput(ConsentQuery, req.query, 'query');
    const accountSid = asked ?? deps.config.twilio.accountSid;
    if (!accountSid) throw new ApiRequestError(400, 'invalid_request', 'query.accountSid: is required', 'accountSid');
    const entries = twilioOf(deps)
      .consent.entries(accountSid, number)
      .map((e) => ({ scope: e.scope, optedOut: e.optedOut, ...(e.occurredAt ? { occurredAt: e.occurredAt } : {}) }));
    return { phoneNumber: number, accountSid, entries };
  });
  app.post('/api/consent/:number', { config: { api: CONSENT_POST_SPEC } }, async (req) => {
    const { number } = parseInput(ConsentParams, req.params, 'params');
    const body = parseInput(ConsentChangeBody, req.body, 'body');
    const accountSid = body.accountSid ?? deps.config.twilio.accountSid;
    if (!accountSid) throw new ApiRequestError(400, 'invalid_request', 'body.accountSid: is required', 'accountSid');
    const twilio = twilioOf(deps);
    const event = deps.builder.consentChanged({
      accountSid,
      action: body.action,
      phoneNumber: number,
      scope: body.scope,
      via: 'api',
      reason: body.reason,
    });
    // Through the connector's publisher: the change is applied to the opt-out list once Kafka acknowledged it.
    await publishOr503(twilio.consentPublisher, event);
    return { eventId: event.id };
  });
}
