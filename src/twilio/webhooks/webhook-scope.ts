import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IngressEgressError } from '../../errors';
import { inServerSpan, startSpan, type Logger } from '../../observability';
import type { SignatureCheck, SignatureVerifier } from './signature-verifier';
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

/**
 * Registers a webhook route whose answer runs in the webhook's server span: received → signature → publish (a
 * producer span per record, ended by Kafka's ack) → answer. Twilio sends no trace context, so each webhook starts a
 * trace. A no-op span when tracing is off.
 */
export function postTraced(
  scope: FastifyInstance,
  route: string,
  answer: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  scope.post(route, (req, reply) =>
    inServerSpan(
      'POST',
      route,
      () => reply.statusCode,
      () => answer(req, reply),
    ),
  );
}

/** The verifier's check of a webhook's `X-Twilio-Signature` in a span of its own (the result, never the header). */
export function verifyInSpan(
  verifier: SignatureVerifier,
  req: FastifyRequest,
  body: Parameters<SignatureVerifier['verify']>[2],
): SignatureCheck {
  const span = startSpan('webhook signature');
  const signature = req.headers['x-twilio-signature'];
  const check = verifier.verify(
    typeof signature === 'string' && signature !== '' ? signature : undefined,
    req.url,
    body,
  );
  span.setAttribute('twilio.signature.valid', check.ok);
  if (!check.ok) span.setAttribute('twilio.signature.failure', check.reason);
  span.end();
  return check;
}
