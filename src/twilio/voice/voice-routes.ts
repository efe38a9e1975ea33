import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import {
  CALL_STATUS_RANK,
  EnvelopeValidationError,
  type CallStatus,
  type InternalEventV2,
  type VoiceEnvelopeBuilder,
} from '../../envelope';
import { IngressEgressError, isRetriable } from '../../errors';
import type { Logger, Metrics } from '../../observability';
import type { DeliveryDeduplicator } from '../webhooks/delivery-deduplicator';
import type { SignatureFailure, SignatureVerifier } from '../webhooks/signature-verifier';
import { isWebhookBody, type WebhookBody } from '../webhooks/webhook-body';
import { refuse } from '../webhooks/webhook-replies';
import { recordSignatureFailure } from '../webhooks/webhook-routes';
import type { CallStatusTracker } from './call-status-tracker';
import type { EventOutbox } from './event-outbox';
import { readVoiceParams, VOICE_PARAM_RULES } from './voice-params';
import type { VoiceRouting } from './voice-routing';
import {
  VOICE_DIAL_PATH,
  VOICE_RECORDING_PATH,
  VOICE_STATUS_PATH,
  VOICE_TRANSCRIPTION_PATH,
  VOICE_WEBHOOK_PATH,
  type VoiceTwiml,
} from './voice-twiml';
import { postTraced, prepareWebhookScope, verifyInSpan } from '../webhooks/webhook-scope';
import { valueWithin } from '../../common/deadline';
import { kafkaDidNotAcknowledge } from '../webhooks/webhook-scope';

export const VOICE_ROUTES = [
  VOICE_WEBHOOK_PATH,
  VOICE_DIAL_PATH,
  VOICE_STATUS_PATH,
  VOICE_RECORDING_PATH,
  VOICE_TRANSCRIPTION_PATH,
] as const;
type VoiceRoute = (typeof VOICE_ROUTES)[number];

export interface VoiceRoutesDeps {
  /** Undefined only when validation is turned off (config forbids that in production). */
  verifier: SignatureVerifier | undefined;
  routing: VoiceRouting;
  twiml: VoiceTwiml;
  builder: VoiceEnvelopeBuilder;
  /** Call events (received, dial result): on disk before the answer, on Kafka right after. */
  outbox: EventOutbox;
  /** Status, recording and transcription events: published before the answer, 503 when Kafka is down. */
  publisher: EventPublisherPort;
  dedup: DeliveryDeduplicator<void>;
  tracker: CallStatusTracker;
  metrics: Metrics;
  logger: Logger;
  /** Longest wait for Kafka's ack before answering a callback 503. */
  publishTimeoutMs: number;
}

type Outcome = { ok: true } | { ok: false; status: number; error: string; reason: string };

const SIGNATURE_REASONS: Readonly<Record<SignatureFailure, string>> = {
  missing: 'missing X-Twilio-Signature header',
  missing_account: 'missing or malformed AccountSid: no auth token to check the signature with',
  unknown_account: 'AccountSid is not one of the configured accounts',
  invalid: 'X-Twilio-Signature does not match the request',
};

/**
 * The Programmable Voice webhooks, in their own fastify context (form and
 * JSON bodies kept raw for the signature, like the SMS webhooks):
 *
 * - `POST /webhooks/twilio/voice` answers the routing TwiML once the
 *   voice.call.received event is in the durable outbox: a call never waits
 *   for Kafka. With `?after=record` (the voicemail's `<Record action>`) it
 *   hangs up.
 * - `POST /webhooks/twilio/voice/dial` (`<Dial action>`): voice.dial.completed
 *   through the outbox, then voicemail or hang-up TwiML.
 * - `/status`, `/recording`, `/transcription`: published to Kafka before the
 *   204, 503 when Kafka does not acknowledge (Twilio retries).
 */
export function voiceRoutes(deps: VoiceRoutesDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    await app.register(async (scope) => registerInScope(scope, deps));
  };
}

function registerInScope(scope: FastifyInstance, deps: VoiceRoutesDeps): void {
  const { metrics, logger, routing, twiml, builder } = deps;
  prepareWebhookScope(scope, logger, 'voice webhook');

  // Label children resolved once: prom-client hashes label values on every labels() call.
  const latency = new Map(VOICE_ROUTES.map((r) => [r as string, metrics.webhookLatency.labels(r)]));
  const timedOut = new Map(VOICE_ROUTES.map((r) => [r as string, metrics.webhookTimeouts.labels(r)]));
  for (const r of VOICE_ROUTES) {
    timedOut.get(r)!.inc(0);
    // The failure series exist from the start so a rate over them is 0, not absent.
    metrics.webhookRequests.labels(r, '503').inc(0);
  }
  const answered = new Map<string, { inc(): void }>();
  scope.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    const observe = route === undefined ? undefined : latency.get(route);
    if (route !== undefined && observe) {
      observe.observe(reply.elapsedTime / 1000);
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
        logger.debug({ reason: check.reason, route: req.routeOptions.url }, 'voice webhook signature refused');
        refuse(reply, check.status, 'signature_' + check.reason, SIGNATURE_REASONS[check.reason]);
        return undefined;
      }
    }
    return body;
  };

  /** Into the outbox (once per delivery key); a write failure is logged and counted, never a refused call. */
  const keep = async (keys: string[], event: InternalEventV2, route: VoiceRoute): Promise<void> => {
    const run = deps.dedup.run(keys, () => deps.outbox.append(event));
    if (run.duplicate) metrics.duplicatesSuppressed.labels(route).inc();
    try {
      await run.result;
    } catch (err) {
      metrics.voiceOutboxWriteErrors.inc();
      logger.error(
        { err, route, eventId: event.id },
        'voice outbox write failed: the call is answered, its event is lost',
      );
    }
  };

  let kafkaFailing = false;
  /** Publish (once per delivery key) within the deadline; the HTTP outcome. */
  const publish = async (keys: string[], work: () => Promise<void>, route: VoiceRoute): Promise<Outcome> => {
    try {
      const run = deps.dedup.run(keys, work);
      if (run.duplicate) metrics.duplicatesSuppressed.labels(route).inc();
      await valueWithin(run.result, deps.publishTimeoutMs, () => {
        timedOut.get(route)?.inc();
        return kafkaDidNotAcknowledge(deps.publishTimeoutMs);
      });
      if (kafkaFailing) {
        kafkaFailing = false;
        logger.info('Kafka acknowledges again: voice callbacks answered 2xx');
      }
      return { ok: true };
    } catch (err) {
      if (err instanceof EnvelopeValidationError) {
        return { ok: false, status: 400, error: 'invalid_payload', reason: `invalid fields: ${fieldsOf(err)}` };
      }
      if (isRetriable(err) || (err instanceof IngressEgressError && err.code === 'IE_KAFKA_REJECTED')) {
        if (!kafkaFailing) {
          kafkaFailing = true;
          logger.warn({ err }, 'Kafka unavailable: answering voice callbacks 503 so Twilio retries');
        }
        return {
          ok: false,
          status: 503,
          error: 'kafka_unavailable',
          reason: 'events could not be stored; retry later',
        };
      }
      logger.error({ err, route }, 'voice callback publish failed unexpectedly');
      return { ok: false, status: 500, error: 'internal', reason: 'internal error' };
    }
  };

  const send = async (event: InternalEventV2): Promise<void> => {
    if (!deps.publisher.isReady())
      throw new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'Kafka publisher is not ready');
    await deps.publisher.publish(event);
  };

  postTraced(scope, VOICE_WEBHOOK_PATH, async (req, reply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readVoiceParams(body.params, VOICE_PARAM_RULES.call);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    if (queryOf(req).after === 'record') return reply.type('text/xml').send(twiml.hangup());
    const route = routing.forCall(params.params.To);
    let event: InternalEventV2;
    try {
      event = builder.callReceived(params.params, { name: route.name, action: route.rule.action });
    } catch (err) {
      if (err instanceof EnvelopeValidationError) {
        return refuse(reply, 400, 'invalid_payload', `invalid fields: ${fieldsOf(err)}`);
      }
      throw err;
    }
    await keep([`call|${params.params.CallSid}`], event, VOICE_WEBHOOK_PATH);
    metrics.voiceCallsReceived.labels(route.rule.action).inc();
    metrics.voiceCallSetup.observe(reply.elapsedTime / 1000);
    return reply.type('text/xml').send(twiml.answer(route));
  });

  postTraced(scope, VOICE_DIAL_PATH, async (req, reply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readVoiceParams(body.params, VOICE_PARAM_RULES.dial);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    const routeName = queryOf(req).route;
    const route = routeName === undefined ? undefined : routing.byName(routeName);
    const forwardedTo = route?.rule.action === 'forward' ? [route.rule.to].flat().join(',') : undefined;
    let event: InternalEventV2;
    try {
      event = builder.dialCompleted(params.params, {
        ...(route ? { route: route.name } : {}),
        ...(forwardedTo ? { forwardedTo } : {}),
      });
    } catch (err) {
      if (err instanceof EnvelopeValidationError) {
        return refuse(reply, 400, 'invalid_payload', `invalid fields: ${fieldsOf(err)}`);
      }
      throw err;
    }
    const p = params.params;
    await keep([`dial|${p.CallSid}|${p.DialCallSid ?? ''}|${p.DialCallStatus}`], event, VOICE_DIAL_PATH);
    const answeredCall = event.type === 'voice.dial.completed' && event.data.answered;
    if (answeredCall) metrics.voiceCallsAnswered.inc();
    else metrics.voiceCallsMissed.labels(p.DialCallStatus!).inc();
    return reply.type('text/xml').send(twiml.afterDial(route, answeredCall));
  });

  postTraced(scope, VOICE_STATUS_PATH, async (req, reply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readVoiceParams(body.params, VOICE_PARAM_RULES.status);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    const p = params.params;
    const status = p.CallStatus as CallStatus;
    const sequence = p.SequenceNumber ? Number(p.SequenceNumber) : undefined;
    const rank = CALL_STATUS_RANK[status];
    const outcome = await publish(
      [`status|${p.CallSid}|${status}|${p.SequenceNumber ?? ''}`],
      async () => {
        // Built inside the once-per-delivery work: `advances` depends on what was published before.
        const event = builder.callStatus(p, deps.tracker.advances(p.CallSid!, sequence, rank));
        await send(event);
        deps.tracker.record(p.CallSid!, sequence, rank);
      },
      VOICE_STATUS_PATH,
    );
    if (!outcome.ok) return refuse(reply, outcome.status, outcome.error, outcome.reason);
    return reply.code(204).send();
  });

  postTraced(scope, VOICE_RECORDING_PATH, async (req, reply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readVoiceParams(body.params, VOICE_PARAM_RULES.recording);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    const p = params.params;
    const outcome = await publish(
      [`recording|${p.RecordingSid}|${p.RecordingStatus}`],
      async () => {
        const event = builder.recording(p);
        if (!event) return; // in-progress: not an event
        await send(event);
        metrics.voiceRecordings.labels(p.RecordingStatus!).inc();
        if (event.type === 'voice.recording.completed' && event.data.durationSecs !== undefined) {
          metrics.voiceRecordingDuration.observe(event.data.durationSecs);
        }
      },
      VOICE_RECORDING_PATH,
    );
    if (!outcome.ok) return refuse(reply, outcome.status, outcome.error, outcome.reason);
    return reply.code(204).send();
  });

  postTraced(scope, VOICE_TRANSCRIPTION_PATH, async (req, reply) => {
    const body = authenticate(req, reply);
    if (!body) return reply;
    const params = readVoiceParams(body.params, VOICE_PARAM_RULES.transcription);
    if (!params.ok) return refuse(reply, 400, 'invalid_payload', params.reason);
    const p = params.params;
    const outcome = await publish(
      [`transcription|${p.TranscriptionSid}`],
      () => send(builder.transcription(p)),
      VOICE_TRANSCRIPTION_PATH,
    );
    if (!outcome.ok) return refuse(reply, outcome.status, outcome.error, outcome.reason);
    return reply.code(204).send();
  });
}

function queryOf(req: FastifyRequest): Record<string, string | undefined> {
  const q = req.query;
  if (typeof q !== 'object' || q === null) return {};
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

function fieldsOf(err: EnvelopeValidationError): string {
  return err.fields.map((f) => f.path).join(', ');
}
