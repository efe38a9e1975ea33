import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listDlq, replayDlq, type DlqEntry } from '../egress';
import type { ApiDeps } from './api-deps';
import { ErrorBody } from './api-schemas';
import { ApiRequestError, parseInput, type ApiRouteSpec } from '../api-kit';

/** Which DLQ records: by reason code, by request id, at most `limit` (oldest first). */
const filterFields = {
  code: z.string().min(1).max(100).optional().meta({ description: 'Only records with this reason code' }),
  requestId: z.string().min(1).max(200).optional().meta({ description: 'Only the records of this request' }),
  limit: z.coerce.number().int().min(1).max(10_000).optional().meta({ description: 'At most this many' }),
};

export const DlqQuery = z.strictObject(filterFields);
export const DlqReplayBody = z
  .strictObject({
    ...filterFields,
    dryRun: z.boolean().optional().meta({ description: 'Only say what would be replayed' }),
  })
  .meta({ id: 'DlqReplay' });

const DlqEntryBody = z
  .object({
    partition: z.number(),
    offset: z.string(),
    requestId: z.string().optional(),
    failedAt: z.string().optional(),
    format: z.enum(['envelope', 'raw']),
    cause: z.object({
      code: z.string(),
      reason: z.string(),
      stage: z.string(),
      attempts: z.number().optional(),
      twilioErrorCode: z.number().optional(),
      recipient: z.string().optional(),
    }),
  })
  .meta({ id: 'DlqEntry' });

const errors = {
  400: { description: 'A bad parameter (the field is named)', body: ErrorBody },
  401: { description: 'No valid token', body: ErrorBody },
  403: { description: 'The token lacks the admin scope', body: ErrorBody },
  429: { description: 'Over the token’s rate (see Retry-After)', body: ErrorBody },
  503: { description: 'No Kafka client here, or Kafka did not answer', body: ErrorBody },
};

export const DLQ_LIST_SPEC: ApiRouteSpec = {
  scope: 'admin',
  tag: 'dlq',
  summary: 'The egress DLQ’s records with their cause',
  query: DlqQuery,
  responses: {
    200: {
      description: 'The records, oldest first',
      body: z.object({ topic: z.string(), entries: z.array(DlqEntryBody) }),
    },
    ...errors,
  },
};

export const DLQ_REPLAY_SPEC: ApiRouteSpec = {
  scope: 'admin',
  tag: 'dlq',
  summary: 'Re-publish DLQ records to the egress topic',
  description:
    'Each request keeps its id, so the send ledger still prevents a second SMS for anything that went out; the DLQ itself is not modified.',
  body: DlqReplayBody,
  responses: {
    200: {
      description: 'What was (or, in a dry run, would be) replayed, and what was skipped',
      body: z.object({
        dryRun: z.boolean(),
        replayed: z.array(DlqEntryBody),
        skipped: z.array(z.object({ entry: DlqEntryBody, reason: z.string() })),
      }),
    },
    ...errors,
  },
};

function entryJson(e: DlqEntry) {
  return {
    partition: e.partition,
    offset: e.offset,
    ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
    ...(e.failedAt !== undefined ? { failedAt: e.failedAt } : {}),
    format: e.format,
    cause: e.cause,
  };
}

function filterOf(q: { code?: string | undefined; requestId?: string | undefined; limit?: number | undefined }) {
  return {
    ...(q.code !== undefined ? { code: q.code } : {}),
    ...(q.requestId !== undefined ? { requestId: q.requestId } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
  };
}

function unavailable(err: unknown): ApiRequestError {
  if (err instanceof ApiRequestError) return err;
  return new ApiRequestError(503, 'kafka_unavailable', 'the DLQ could not be read; retry later', undefined, {
    'retry-after': '2',
  });
}

/** GET /api/dlq and POST /api/dlq/replay: what `ingress-egress dlq list|replay` does, over HTTP (admin scope). */
export function registerDlqRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const kafkaOf = () => {
    if (!deps.kafka) throw new ApiRequestError(503, 'unavailable', 'this instance has no Kafka client for the DLQ');
    return deps.kafka;
  };
  const topic = deps.config.kafka.topics.egressDlq;
  app.get('/api/dlq', { config: { api: DLQ_LIST_SPEC } }, async (req) => {
    const q = parseInput(DlqQuery, req.query, 'query');
    const entries = await listDlq({ kafka: kafkaOf(), topic, filter: filterOf(q) }).catch((err: unknown) => {
      throw unavailable(err);
    });
    return { topic, entries: entries.map(entryJson) };
  });
  app.post('/api/dlq/replay', { config: { api: DLQ_REPLAY_SPEC } }, async (req) => {
    const body = parseInput(DlqReplayBody, req.body ?? {}, 'body');
    const dryRun = body.dryRun ?? false;
    const result = await replayDlq({
      kafka: kafkaOf(),
      topic,
      filter: filterOf(body),
      publisher: deps.publisher,
      egressTopic: deps.config.kafka.topics.egress,
      dryRun,
    }).catch((err: unknown) => {
      throw unavailable(err);
    });
    return {
      dryRun,
      replayed: result.replayed.map(entryJson),
      skipped: result.skipped.map((s) => ({ entry: entryJson(s.entry), reason: s.reason })),
    };
  });
}
