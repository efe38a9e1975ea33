import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../observability';
import { isApiPath } from './api-route';

/** The body of every `/api` error answer. `field` names the offending input when there is one. */
export interface ApiErrorBody {
  error: string;
  message: string;
  field?: string;
}

/** A request the API refuses with a 4xx; its message names the field and never quotes a value. */
export class ApiRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly field?: string,
    /** Extra answer headers (e.g. Retry-After on 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }

  toBody(): ApiErrorBody {
    return { error: this.error, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) };
  }
}

export function sendApiError(reply: FastifyReply, err: ApiRequestError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.statusCode).send(err.toBody());
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
};

/**
 * The root error handler: `/api` requests get an `ApiErrorBody` (4xx with the
 * reason; anything unexpected a logged 500 without details). Other routes keep
 * fastify's default answer.
 */
export function installApiErrorHandler(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (!isApiPath(req.url)) throw err;
    if (err instanceof ApiRequestError) return sendApiError(reply, err);
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code =
        FASTIFY_CODES[err.code] ?? (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'invalid_json' : 'invalid_request');
      const message = code === 'invalid_json' ? 'the body is not valid JSON' : err.message;
      return reply.code(status).send({ error: code, message } satisfies ApiErrorBody);
    }
    logger.error({ err, route: req.routeOptions.url }, 'api route failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' } satisfies ApiErrorBody);
  });
}
