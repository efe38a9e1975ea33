import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type twilio from 'twilio';
import type { AppConfig } from '../../config';
import { SmsEnvelopeBuilder } from '../../envelope';
import { IngressEgressError } from '../../errors';
import { createKafka } from '../../kafka/create-kafka';
import { KafkaSendLedger } from './kafka-send-ledger';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import {
  CIRCUIT_STATE_VALUE,
  RateLimiter,
  RetryPolicy,
  retryOptionsFor,
  systemClock,
  type Clock,
  type RetryPolicyOptions,
} from '../../resilience';
import { PhoneNormalizer, type CountryCode } from '../../sms/phone';
import { SmsValidator } from '../../sms/validate';
import type { ConversationReply, ConversationReplyResult } from '../conversations/send-conversation-reply';
import type { ConnectorPart } from '../../connector';
import { AccountCircuits } from './account-circuits';
import { classifySendError } from './classify-send-error';
import { initTwilioErrorSeries } from '../rest/error-code-label';
import type { SendFailure } from './delivery';
import { DlqWriter } from '../../egress/dlq-writer';
import type { ConsentCheck, EgressDeps } from './egress-deps';
import { loadTemplates } from './load-templates';
import { createEgressTwilioClient } from './lean-request-client';
import { keepRetryAfter } from './retry-after-hook';
import type { SendLedger } from './send-ledger';
import { SmsOutboundValidator, type TemplateRenderer } from './sms-outbound-validator';
import { TwilioEgressHandler } from './twilio-egress-handler';
import { TwilioMessagesAdapter, widenSocketPool } from './twilio-messages-adapter';
import type { TwilioMessagesPort } from './twilio-messages-port';
import type { EgressExtension } from './twilio-egress-handler';

export interface TwilioEgressContext {
  config: AppConfig;
  logger: Logger;
  metrics?: Metrics | undefined;
  publisher: EventPublisherPort;
  /** The opt-out list (the ConsentStore the consent loader keeps current). */
  consent: ConsentCheck;
  /** Resolves once the opt-out list has caught up (see createConsentCheck). */
  consentReady?: () => Promise<void>;
  templates?: TemplateRenderer | undefined;
  conversationReply?: ((reply: ConversationReply) => Promise<ConversationReplyResult>) | undefined;
  /** Seams: each is built from the configuration when omitted. */
  kafka?: Kafka;
  client?: twilio.Twilio;
  twilio?: TwilioMessagesPort;
  /**
   * Other request types on the egress topic (voice calls), built on the parts SMS egress shares with them:
   * one ledger, one circuit per account, one retry policy, one DLQ.
   */
  extensions?: (shared: SharedEgressParts) => EgressExtension[];
  ledger?: SendLedger & { start?(): Promise<void>; stop?(): Promise<void>; readonly state?: string };
  clock?: Clock;
  instanceId?: string;
  retry?: RetryPolicyOptions;
  classify?: (err: unknown) => SendFailure;
}

/** What SMS egress shares with the other request types on its topic. */
export interface SharedEgressParts {
  ledger: SendLedger;
  circuits: AccountCircuits;
  retry: RetryPolicy;
  classify: (err: unknown) => SendFailure;
  dlq: DlqWriter;
  clock: Clock;
  instanceId: string;
  /** The egress Twilio client (our transport and timeout), when one was built. */
  client: twilio.Twilio | undefined;
}

export interface TwilioEgress {
  handler: TwilioEgressHandler;
  ledger: SendLedger;
  messages: TwilioMessagesPort;
  /** Long-lived parts to run as connector foundations (the ledger reader). */
  parts: ConnectorPart[];
}

/** The Twilio egress handler and what it needs, from the configuration. */
export function createTwilioEgress(ctx: TwilioEgressContext): TwilioEgress {
  const { config, metrics } = ctx;
  const t = config.twilio;
  const logger = ctx.logger.child({ part: 'egress' });
  const clock = ctx.clock ?? systemClock;
  const instanceId = ctx.instanceId ?? randomUUID();
  let messages = ctx.twilio;
  let client: twilio.Twilio | undefined = ctx.client;
  if (!messages || ctx.extensions) {
    if (!t.accountSid || !t.authToken) {
      throw new IngressEgressError('IE_CONFIG_INVALID', 'egress needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
    }
    client =
      ctx.client ??
      createEgressTwilioClient({
        accountSid: t.accountSid,
        authToken: t.authToken,
        apiBaseUrl: t.apiBaseUrl,
        timeoutMs: t.timeoutMs,
        connectTimeoutMs: t.connectTimeoutMs,
        maxSockets: t.httpPool.maxSockets,
        idleTimeoutMs: t.httpPool.idleTimeoutMs,
      });
    widenSocketPool(client, t.httpPool.maxSockets);
    keepRetryAfter(client);
    messages ??= new TwilioMessagesAdapter(client);
  }
  const ledger =
    ctx.ledger ??
    new KafkaSendLedger({
      kafka: ctx.kafka ?? createKafka(config.kafka, logger),
      publisher: ctx.publisher,
      topic: config.egress.ledgerTopic,
      groupIdPrefix: config.kafka.groupId,
      instanceId,
      logger: logger.child({ part: 'send-ledger' }),
      clock,
      sessionTimeoutMs: Math.min(config.egress.sessionTimeoutMs, 10_000),
    });
  const sms = new SmsValidator({
    maxSegments: t.maxSegments,
    smartEncoding: config.sms.smartEncoding,
    ...(config.sms.allowedMediaTypes ? { allowedMediaTypes: config.sms.allowedMediaTypes } : {}),
  });
  const deps: EgressDeps = {
    clock,
    logger,
    metrics,
    builder: new SmsEnvelopeBuilder(clock),
    publisher: ctx.publisher,
    topics: config.kafka.topics,
    twilio: messages,
    ledger,
    limiter: new RateLimiter({
      account: { ratePerSec: t.rateLimit.perSec, burst: t.rateLimit.burst },
      sender: { ratePerSec: config.egress.perSender.rate, burst: config.egress.perSender.burst },
      recipient: { ratePerSec: t.rateLimit.perNumberRate, burst: t.rateLimit.perNumberBurst },
      clock,
      bulkShare: config.egress.bulkRateShare,
      onHit: (bucket) => metrics?.rateLimitHits.inc({ bucket }),
    }),
    circuits: new AccountCircuits({
      failureThreshold: t.circuit.failureThreshold,
      resetTimeoutMs: t.circuit.resetTimeoutMs,
      successThreshold: t.circuit.successThreshold,
      clock,
      onChange: (worst, accountSid, state) => {
        metrics?.circuitState.set(CIRCUIT_STATE_VALUE[worst]);
        logger.warn({ accountSid, state }, `Twilio circuit ${state}`);
      },
    }),
    retry: new RetryPolicy({
      ...(ctx.retry ?? retryOptionsFor(config.nodeEnv)),
      maxAttempts: config.egress.maxAttempts,
    }),
    classify: ctx.classify ?? classifySendError,
    validator: new SmsOutboundValidator({
      phones: new PhoneNormalizer({
        defaultCountry: config.sms.defaultCountry as CountryCode,
        validation: config.sms.phoneValidation,
        blockedCountries: config.sms.blockedCountries,
        allowedCountries: config.sms.allowedCountries,
        blockPremiumRate: config.sms.blockPremiumRate,
        blockEmergency: config.sms.blockEmergency,
      }),
      sms,
      templates: ctx.templates ?? loadTemplates(config.egress.templatesFile, sms),
      defaultFrom: t.phoneNumber,
      defaultMessagingServiceSid: t.messagingServiceSid,
      statusCallbackUrl: t.statusCallbackUrl,
    }),
    consent: ctx.consent,
    dlq: new DlqWriter(ctx.publisher, config.kafka.topics.egressDlq, metrics, () => clock.now()),
    instanceId,
    twilioTimeoutMs: t.timeoutMs,
    conversationReply: ctx.conversationReply,
    consentReady: ctx.consentReady,
  };
  metrics?.circuitState.set(0);
  initTwilioErrorSeries(metrics);
  const extensions =
    ctx.extensions?.({
      ledger,
      circuits: deps.circuits,
      retry: deps.retry,
      classify: deps.classify,
      dlq: deps.dlq,
      clock,
      instanceId,
      client,
    }) ?? [];
  const handler = new TwilioEgressHandler(deps, { extensions });
  const parts: ConnectorPart[] = [];
  const lifecycle = ledger as { start?(): Promise<void>; stop?(): Promise<void>; readonly state?: string };
  if (typeof lifecycle.start === 'function' && typeof lifecycle.stop === 'function') {
    parts.push({
      name: 'send-ledger',
      start: () => lifecycle.start!(),
      stop: () => lifecycle.stop!(),
      health: () => ({ ready: lifecycle.state === 'running', state: lifecycle.state ?? 'running' }),
    });
  }
  return { handler, ledger, messages, parts };
}
