import type { FastifyError, FastifyInstance } from 'fastify';
import { IngressEgressError } from '../../errors';
import type { Logger } from '../../observability';
import { parseFormBody, parseJsonBody } from './webhook-body';
import { refuse } from './webhook-replies';

/**
 * Prepares a fastify scope for Twilio webhooks (SMS, status, voice): only Twilio's two encodings, both keeping the
 * raw text for the signature; bad input (too large, wrong type, unparsable) keeps its 4xx with the reason, anything
 * else is our bug (500, logged once as `<what> failed unexpectedly`).
 */
export function prepareWebhookScope(scope: FastifyInstance, logger: Logger, what: string): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseFormBody(body as string));
  });
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  scope.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      logger.error({ err, route: req.routeOptions.url }, `${what} failed unexpectedly`);
      return refuse(reply, 500, 'internal', 'internal error');
    }
    return refuse(reply, status, err.code ?? 'bad_request', err.message);
  });
}

/** The error a webhook answers 503 with when Kafka did not acknowledge its event within the answer deadline. */
export function kafkaDidNotAcknowledge(ms: number): IngressEgressError {
  return new IngressEgressError('IE_KAFKA_UNAVAILABLE', `Kafka did not acknowledge within ${ms} ms`);
}
