import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EnvelopeValidationError } from '../../envelope';
import { IngressEgressError, isRetriable } from '../../errors';
import type { Logger, Metrics } from '../../observability';
import type { AutoReplier } from './auto-reply';
import type { DedupRun } from './delivery-deduplicator';
import type { InboundWebhook } from './inbound-webhook';
import type { SignatureFailure, SignatureVerifier } from './signature-verifier';
import type { StatusCallback } from './status-callback';
import { EMPTY_TWIML, refuse } from './webhook-replies';
import { isWebhookBody, type WebhookBody } from './webhook-body';
import { readInboundParams, readStatusParams } from './webhook-params';
import { postTraced, prepareWebhookScope, verifyInSpan } from './webhook-scope';
import { valueWithin } from '../../common/deadline';
import { kafkaDidNotAcknowledge } from './webhook-scope';

export const SMS_WEBHOOK_PATH = '/webhooks/twilio/sms';
export const STATUS_WEBHOOK_PATH = '/webhooks/twilio/status';

export interface WebhookRoutesDeps {
  /** Undefined only when validation is turned off (config forbids that in production). */
  verifier: SignatureVerifier | undefined;
  inbound: InboundWebhook;
  /** Inbound auto-replies (AUTO_REPLY_FILE); undefined: every inbound SMS is answered with empty TwiML. */
  autoReply?: AutoReplier | undefined;
  status: StatusCallback;
  metrics: Metrics;
  logger: Logger;
  /**
   * Longest wait for Kafka's ack before answering 503; below Twilio's 15 s
   * read timeout so Twilio sees a clean 503 and retries rather than a timeout.
   */
  publishTimeoutMs: number;
}

type Outcome = { ok: true } | { ok: false; status: number; error: string; reason: string };

/**
 * `POST /webhooks/twilio/sms` and `POST /webhooks/twilio/status` in their own
 * fastify context: raw-body parsers for form and JSON, signature check,
 * payload check, publish, answer. Order of refusals: 413/415 (body), 400
 * (missing signature or account), 403 (signature), 400 (payload), 503 (Kafka).
 */
export function webhookRoutes(deps: WebhookRoutesDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    await app.register(async (scope) => registerInScope(scope, deps));
  };
}

function registerInScope(scope: FastifyInstance, deps: WebhookRoutesDeps): void {
  const { metrics, logger } = deps;
  prepareWebhookScope(scope, logger, 'webhook');

  // Label children resolved once: prom-client hashes label values on every labels() call.
  const latency = {
    [SMS_WEBHOOK_PATH]: metrics.webhookLatency.labels(SMS_WEBHOOK_PATH),
    [STATUS_WEBHOOK_PATH]: metrics.webhookLatency.labels(STATUS_WEBHOOK_PATH),
  };
  // Present at 0 from the start, so the timeout ratio counts the first timeout.
  const timedOut = {
    [SMS_WEBHOOK_PATH]: metrics.webhookTimeouts.labels(SMS_WEBHOOK_PATH),
    [STATUS_WEBHOOK_PATH]: metrics.webhookTimeouts.labels(STATUS_WEBHOOK_PATH),
  };
  timedOut[SMS_WEBHOOK_PATH].inc(0);
  timedOut[STATUS_WEBHOOK_PATH].inc(0);
  const answered = new Map<string, { inc(): void }>();
  scope.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    if (route === SMS_WEBHOOK_PATH || route === STATUS_WEBHOOK_PATH) {
      latency[route].observe(reply.elapsedTime / 1000);
      const key = `${route} ${reply.statusCode}`;
      let counter = answered.get(key);
      if (!counter) {
        counter = metrics.webhookRequests.labels(route, String(reply.statusCode));
        answered.set(key, counter);
      }
      counter.inc();
    }
    done();
  });

  let kafkaFailing = false;
  const settle = async (
    start: () => DedupRun<void>,
    route: typeof SMS_WEBHOOK_PATH | typeof STATUS_WEBHOOK_PATH,
  ): Promise<Outcome> => {
    try {
      // start() throws synchronously when the payload cannot become an envelope.
      const run = start();
      if (run.duplicate) metrics.duplicatesSuppressed.labels(route).inc();
      await valueWithin(run.result, deps.publishTimeoutMs, () => {
        timedOut[route].inc();
        return kafkaDidNotAcknowledge(deps.publishTimeoutMs);
      });
      if (kafkaFailing) {
        kafkaFailing = false;
        logger.info('Kafka acknowledges again: webhooks answered 2xx');
      }
      return { ok: true };
    } catch (err) {
      return failure(err);
    }
  };
  const failure = (err: unknown): Outcome => {
    if (err instanceof EnvelopeValidationError) {
      return { ok: false, status: 400, error: 'invalid_payload', reason: `invalid fields: ${fieldsOf(err)}` };
    }
    if (isRetriable(err)) {
      if (!kafkaFailing) {
        kafkaFailing = true;
        logger.warn({ err }, 'Kafka unavailable: answering webhooks 503 so Twilio retries');
      }
      return { ok: false, status: 503, error: 'kafka_unavailable', reason: 'events could not be stored; retry later' };
    }
    if (err instanceof IngressEgressError && err.code === 'IE_KAFKA_REJECTED') {
      // Not stored, and a retry alone will not fix it (ACLs, record size): still 503 so nothing is lost once fixed.
      logger.error({ err }, 'Kafka rejected the record: answering webhooks 503');
      return { ok: false, status: 503, error: 'kafka_rejected', reason: 'events could not be stored; retry later' };
    }
    logger.error({ err }, 'webhook publish failed unexpectedly');
    return { ok: false, status: 500, error: 'internal', reason: 'internal error' };
  };

  // Shared front half: body, signature, then the route's own payload check.
  const authenticate = (req: FastifyRequest, reply: FastifyReply): WebhookBody | undefined => {
    const body = req.body;
    if (!isWebhookBody(body)) {
      refuse(reply, 400, 'bad_request', 'body must be form-encoded or JSON Twilio parameters');
      return undefined;
    }
    if (deps.verifier) {
      const check = verifyInSpan(deps.verifier, req, body);
      if (!check.ok) {
        recordSignatureFailure(metrics, check.reason);
        logger.debug({ reason: check.reason, route: req.routeOptions.url }, 'webhook signature refused');
        refuse(reply, check.status, 'signature_' + check.reason, SIGNATURE_REASONS[check.reason]);
        return undefined;
      }
    }
    return body;
  };

  postTraced(scope, SMS_WEBHOOK_PATH, (req, reply) => answerSms(req, reply));
  postTraced(scope, STATUS_WEBHOOK_PATH, (req, reply) => answerStatus(req, reply));

  const answerSms = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readInboundParams(body.params);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    const outcome = await settle(() => deps.inbound.handle(params.value), SMS_WEBHOOK_PATH);
    if (!outcome.ok) return refuse(reply, outcome.status, outcome.error, outcome.reason);
    if (!deps.autoReply) return reply.type('text/xml').send(EMPTY_TWIML);
    // Decided only now that the inbound event is on Kafka, within what is left of the answer deadline.
    const answer = await deps.autoReply.answer(params.value, deps.publishTimeoutMs - reply.elapsedTime);
    return reply.type('text/xml').send(answer.twiml);
  };

  const answerStatus = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readStatusParams(body.params);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    const outcome = await settle(() => deps.status.handle(params.value), STATUS_WEBHOOK_PATH);
    if (!outcome.ok) return refuse(reply, outcome.status, outcome.error, outcome.reason);
    return reply.code(204).send();
  };
}

const SIGNATURE_REASONS: Readonly<Record<SignatureFailure, string>> = {
  missing: 'missing X-Twilio-Signature header',
  missing_account: 'missing or malformed AccountSid: no auth token to check the signature with',
  unknown_account: 'AccountSid is not one of the configured accounts',
  invalid: 'X-Twilio-Signature does not match the request',
};

function fieldsOf(err: EnvelopeValidationError): string {
  return err.fields.map((f) => f.path).join(', ');
}

/**
 * Counts a refused webhook signature; the reasons that mean a request claiming
 * to come from one of our Twilio accounts failed the check (a wrong token or
 * public URL, or a forgery) are also authentication failures. A missing
 * signature or AccountSid is a request that does not claim to be Twilio's.
 */
export function recordSignatureFailure(metrics: Metrics, reason: SignatureFailure): void {
  metrics.signatureFailures.labels(reason).inc();
  if (reason === 'invalid' || reason === 'unknown_account') metrics.authFailures.inc({ source: 'webhook_signature' });
}
