import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { deterministicEventId, randomEventId, type EventOf } from '../envelope';
import { inServerSpan } from '../observability';
import type { ApiDeps } from './api-deps';
import {
  AcceptedBody,
  ErrorBody,
  IdempotencyHeaders,
  OutcomeBody,
  RequestIdParams,
  RequestStateBody,
  SendBulkBody,
  SendSmsBody,
  WaitQuery,
} from './api-schemas';
import { ApiRequestError, parseInput, type ApiRouteSpec } from '../api-kit';
import type { WaitKind } from './outcome-watcher';
import { publishOr503 } from './publish-or-503';

const errors = {
  400: { description: 'A bad body, query or header (the field is named)', body: ErrorBody },
  401: { description: 'No valid token', body: ErrorBody },
  403: { description: 'The token lacks the scope', body: ErrorBody },
  429: { description: 'Over the token’s rate (see Retry-After)', body: ErrorBody },
};

const sendResponses = (what: string): ApiRouteSpec['responses'] => ({
  200: { description: `With ?wait: the ${what} outcome arrived in time`, body: OutcomeBody },
  202: { description: 'On Kafka (acknowledged): the request id', body: AcceptedBody },
  ...errors,
  413: { description: 'Body over HTTP_BODY_LIMIT_BYTES', body: ErrorBody },
  422: { description: 'The Idempotency-Key was used with a different body', body: ErrorBody },
  503: { description: 'Kafka did not acknowledge; retry (with the same Idempotency-Key)', body: ErrorBody },
});

export const SEND_SPEC: ApiRouteSpec = {
  scope: 'send',
  tag: 'sms',
  summary: 'Send an SMS or MMS',
  description:
    'Validated with the egress envelope’s rules and published to sms.egress as sms.outbound.requested; answers 202 once Kafka acknowledged. Business rules (opt-outs, segments, templates) give a rejected outcome, not a 400.',
  body: SendSmsBody,
  query: WaitQuery,
  headers: IdempotencyHeaders,
  responses: sendResponses('request’s'),
};

export const BULK_SPEC: ApiRouteSpec = {
  scope: 'send',
  tag: 'sms',
  summary: 'Send one text to many recipients',
  description:
    'One request, one outcome per recipient and an sms.outbound.summary; ?wait waits for the summary. Recipients are numbers: spellings of one number (+15017122661, +1 501-712-2661) are one recipient, texted once.',
  body: SendBulkBody,
  query: WaitQuery,
  headers: IdempotencyHeaders,
  responses: sendResponses('summary'),
};

export const CANCEL_SPEC: ApiRouteSpec = {
  scope: 'send',
  tag: 'sms',
  summary: 'Cancel a scheduled request',
  description: 'Publishes sms.outbound.cancel_requested; each canceled message gets an sms.outbound.canceled outcome.',
  params: RequestIdParams,
  responses: { 202: { description: 'The cancel is on Kafka', body: AcceptedBody }, ...errors, 503: errors[400] },
};

export const REQUEST_SPEC: ApiRouteSpec = {
  scope: 'read',
  tag: 'sms',
  summary: 'A request’s ledger state and outcomes',
  params: RequestIdParams,
  responses: {
    200: { description: 'What is known of the request', body: RequestStateBody },
    ...errors,
    404: { description: 'Nothing is known of this request id', body: ErrorBody },
  },
};

type Send = SendSmsBody | z.output<typeof SendBulkBody>;

/** POST /api/sms, POST /api/sms/bulk, POST /api/sms/{requestId}/cancel, GET /api/requests/{requestId}. */
export function registerSmsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  // Each send route's answer is a server span; the sms.egress record it publishes is its child, so the egress
  // request's trace starts at the API call (docs/tracing.md).
  app.post('/api/sms', { config: { api: SEND_SPEC } }, (req, reply) =>
    inServerSpan(
      'POST',
      '/api/sms',
      () => reply.statusCode,
      () => send(deps, req, reply, parseInput(SendSmsBody, req.body, 'body'), 'single'),
    ),
  );
  app.post('/api/sms/bulk', { config: { api: BULK_SPEC } }, (req, reply) =>
    inServerSpan(
      'POST',
      '/api/sms/bulk',
      () => reply.statusCode,
      () => send(deps, req, reply, parseInput(SendBulkBody, req.body, 'body'), 'bulk'),
    ),
  );
  app.post('/api/sms/:requestId/cancel', { config: { api: CANCEL_SPEC } }, (req, reply) =>
    inServerSpan(
      'POST',
      '/api/sms/:requestId/cancel',
      () => reply.statusCode,
      () => cancel(req, reply),
    ),
  );
  const cancel = async (req: FastifyRequest, reply: FastifyReply) => {
    const { requestId } = parseInput(RequestIdParams, req.params, 'params');
    const known = deps.requests.get(requestId);
    const ledger = deps.twilio?.ledger.byRequest(requestId) ?? [];
    const accountSid = known?.accountSid ?? ledger[0]?.accountSid ?? deps.config.twilio.accountSid;
    if (!accountSid) throw new ApiRequestError(404, 'not_found', 'unknown request and no TWILIO_ACCOUNT_SID');
    // Keyed like the request (its recipient) so the cancel is handled after it.
    const subject = known?.subject ?? ledger[0]?.recipient ?? requestId;
    const event = deps.builder.build('sms.outbound.cancel_requested', {
      id: deterministicEventId('api.cancel', requestId),
      accountSid,
      subject,
      source: 'twilio',
      data: { requestId },
    });
    await publishOr503(deps.publisher, event);
    return reply.code(202).send({ requestId, cancelId: event.id });
  };
  app.get('/api/requests/:requestId', { config: { api: REQUEST_SPEC } }, async (req) => {
    const { requestId } = parseInput(RequestIdParams, req.params, 'params');
    const known = deps.requests.get(requestId);
    const ledger = (deps.twilio?.ledger.byRequest(requestId) ?? []).map((e) => ({
      recipient: e.recipient,
      state: e.state,
      ...(e.messageSid !== undefined ? { messageSid: e.messageSid } : {}),
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.attempts !== undefined ? { attempts: e.attempts } : {}),
    }));
    const outcomes = deps.outcomes?.outcomesOf(requestId) ?? [];
    if (!known && ledger.length === 0 && outcomes.length === 0) {
      throw new ApiRequestError(404, 'not_found', 'nothing is known of this request id');
    }
    return { requestId, published: known !== undefined, ledger, outcomes };
  });
}

async function send(
  deps: ApiDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  body: Send,
  kind: WaitKind,
): Promise<FastifyReply> {
  const { wait } = parseInput(WaitQuery, req.query, 'query');
  const headers = parseInput(IdempotencyHeaders, req.headers, 'headers');
  const accountSid = body.accountSid ?? deps.config.twilio.accountSid;
  if (!accountSid) throw new ApiRequestError(400, 'invalid_request', 'body.accountSid: is required', 'accountSid');
  const route = kind === 'bulk' ? 'sms.bulk' : 'sms';
  const key = headers['idempotency-key'];
  const claim = key === undefined ? undefined : deps.idempotency.claim(route, req.apiCaller?.name ?? '', key, body);
  if (claim?.kind === 'conflict') {
    throw new ApiRequestError(
      422,
      'idempotency_key_reused',
      'this Idempotency-Key was used with a different body',
      'idempotency-key',
    );
  }
  const requestId = claim?.requestId ?? randomEventId();
  if (claim?.kind === 'repeat') {
    // The first request with this key is (being) published: answer with its id, publish nothing more.
    await claim.published.catch(() => {
      throw new ApiRequestError(503, 'unavailable', 'Kafka did not acknowledge the request; retry later', undefined, {
        'Retry-After': '5',
      });
    });
  } else {
    const event = envelope(deps, requestId, accountSid, body);
    try {
      await publishOr503(deps.publisher, event);
      claim?.settle(true);
    } catch (err) {
      claim?.settle(false);
      throw err;
    }
    deps.requests.remember(requestId, {
      accountSid,
      subject: event.subject,
      bulk: kind === 'bulk',
      publishedAt: event.ingestedAt,
    });
  }
  if (wait !== undefined && wait > 0 && deps.outcomes) {
    const outcome = await deps.outcomes.waitFor(requestId, kind, wait);
    if (outcome) return reply.code(200).send({ requestId, outcome });
  }
  return reply.code(202).send({ requestId });
}

/** The sms.outbound.requested envelope of a send: `source=twilio`, keyed by the recipient (bulk: the request id). */
function envelope(deps: ApiDeps, requestId: string, accountSid: string, body: Send): EventOf<'sms.outbound.requested'> {
  const { accountSid: _account, correlationId, ...fields } = body;
  void _account;
  const to = 'to' in body ? body.to : undefined;
  const data = Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as EventOf<'sms.outbound.requested'>['data'];
  return deps.builder.build('sms.outbound.requested', {
    id: requestId,
    accountSid,
    messagingServiceSid: body.messagingServiceSid,
    subject: to ?? requestId,
    correlationId,
    source: 'twilio',
    data,
  });
}
