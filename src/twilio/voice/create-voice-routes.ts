import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../../config';
import type { ConnectorPart } from '../../connector';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import { systemClock, type Clock } from '../../common/clock';
import { VoiceEnvelopeBuilder } from '../../envelope';
import type { Logger, Metrics } from '../../observability';
import { DeliveryDeduplicator } from '../webhooks/delivery-deduplicator';
import { WEBHOOK_DEFAULTS } from '../webhooks/create-webhook-routes';
import { createSignatureVerifier } from '../webhooks/create-signature-verifier';
import { CallStatusTracker } from './call-status-tracker';
import { EventOutbox } from './event-outbox';
import { kafkaPublishedCheck } from './kafka-published-check';
import { voiceRoutes } from './voice-routes';
import { VoiceRouting } from './voice-routing';
import { VoiceTwiml } from './voice-twiml';

export interface VoiceContext {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  publisher: EventPublisherPort;
  /** For the outbox's check of what Kafka already holds after a restart or a failed attempt. */
  kafka?: Kafka;
}

export interface VoiceOptions {
  /** A routing already loaded (tests); default VOICE_ROUTING_FILE. */
  routing?: VoiceRouting;
  publishTimeoutMs?: number;
  /** Time for windows, TTLs and the envelopes' timestamps. */
  clock?: Clock;
}

export interface VoiceIngress {
  route: (app: FastifyInstance) => Promise<void>;
  /** The outbox: a connector foundation, running before calls are answered and stopped after. */
  outbox: ConnectorPart;
  routing: VoiceRouting;
}

/**
 * The voice ingress wired from the configuration: routing (validated now, so
 * a bad routing file stops start-up), TwiML, the outbox and the routes.
 */
export function createVoiceIngress(ctx: VoiceContext, options: VoiceOptions = {}): VoiceIngress {
  const { config, logger, metrics, publisher } = ctx;
  const clock = options.clock ?? systemClock;
  const log = logger.child({ part: 'voice' });
  const routing = options.routing ?? VoiceRouting.load(config.voice.routingFile);
  const outbox = new EventOutbox({
    dir: config.voice.outboxDir,
    publisher,
    logger: log,
    metrics: {
      setPending: (n) => metrics.voiceOutboxPending.set(n),
      publishFailed: () => metrics.voiceOutboxPublishFailures.inc(),
      published: (s) => metrics.voiceOutboxDelay.observe(s),
    },
    ...(ctx.kafka ? { alreadyPublished: kafkaPublishedCheck({ kafka: ctx.kafka, topics: config.kafka.topics }) } : {}),
  });
  const route = voiceRoutes({
    verifier: createSignatureVerifier(config.twilio.signing, log),
    routing,
    twiml: new VoiceTwiml({ baseUrl: config.twilio.webhookBaseUrl, recordingNotice: config.voice.recordingNotice }),
    builder: new VoiceEnvelopeBuilder(clock),
    outbox,
    publisher,
    dedup: new DeliveryDeduplicator<void>({
      windowMs: WEBHOOK_DEFAULTS.dedupWindowMs,
      maxEntries: WEBHOOK_DEFAULTS.dedupMaxEntries,
      clock,
    }),
    tracker: new CallStatusTracker({
      ttlMs: WEBHOOK_DEFAULTS.statusTtlMs,
      maxCalls: WEBHOOK_DEFAULTS.statusMaxMessages,
      clock,
    }),
    metrics,
    logger: log,
    publishTimeoutMs: options.publishTimeoutMs ?? config.twilio.webhookAnswerDeadlineMs,
  });
  const part: ConnectorPart = {
    name: 'voice-outbox',
    start: () => outbox.start(),
    stop: () => outbox.stop(),
    health: () => ({ ready: true, state: 'running', details: { pending: outbox.pending } }),
  };
  return { route, outbox: part, routing };
}
