import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../../config';
import { systemClock, type Clock } from '../../common/clock';
import { SmsEnvelopeBuilder } from '../../envelope';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import { SmsValidator } from '../../sms';
import { KeywordDetector } from '../../sms/keywords';
import { IngressEgressError } from '../../errors';
import { AutoReplier, type AutoReplyConsent } from './auto-reply';
import { AutoReplyRules } from './auto-reply-rules';
import { DeliveryDeduplicator } from './delivery-deduplicator';
import { InboundWebhook } from './inbound-webhook';
import { createSignatureVerifier } from './create-signature-verifier';
import { StatusCallback } from './status-callback';
import { StatusTracker } from './status-tracker';
import { webhookRoutes } from './webhook-routes';

export interface WebhookContext {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  publisher: EventPublisherPort;
  /** The opt-out list auto-replies consult (required when AUTO_REPLY_FILE is set). */
  consent?: AutoReplyConsent | undefined;
}

export interface WebhookOptions {
  /** Auto-reply rules already loaded (tests); default AUTO_REPLY_FILE. */
  autoReplyRules?: AutoReplyRules;
  /** Opt-out/opt-in/help keywords; default Twilio's plus the COMPLIANCE_EXTRA_*_KEYWORDS. */
  keywords?: KeywordDetector;
  /** Repeats of a delivery within this window are not published again (default 10 min). */
  dedupWindowMs?: number;
  /** Delivery keys remembered at most (default 100,000; two keys per delivery when Twilio sends a token). */
  dedupMaxEntries?: number;
  /** How long a message's highest status is remembered (default 24 h). */
  statusTtlMs?: number;
  /** Messages whose highest status is remembered at most (default 100,000). */
  statusMaxMessages?: number;
  /** Longest wait for Kafka's ack before answering 503 (default TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS, 14 s). */
  publishTimeoutMs?: number;
  /** Time for windows, TTLs and the envelopes' timestamps. */
  clock?: Clock;
}

export const WEBHOOK_DEFAULTS = {
  dedupWindowMs: 10 * 60_000,
  dedupMaxEntries: 100_000,
  statusTtlMs: 24 * 3_600_000,
  statusMaxMessages: 100_000,
} as const;

/** The webhook routes wired from the configuration: what the Twilio connector registers. */
export function createWebhookRoutes(
  ctx: WebhookContext,
  options: WebhookOptions = {},
): (app: FastifyInstance) => Promise<void> {
  const { config, logger, metrics, publisher } = ctx;
  const clock = options.clock ?? systemClock;
  const builder = new SmsEnvelopeBuilder(clock);
  const dedup = new DeliveryDeduplicator<void>({
    windowMs: options.dedupWindowMs ?? WEBHOOK_DEFAULTS.dedupWindowMs,
    maxEntries: options.dedupMaxEntries ?? WEBHOOK_DEFAULTS.dedupMaxEntries,
    clock,
  });
  const tracker = new StatusTracker({
    ttlMs: options.statusTtlMs ?? WEBHOOK_DEFAULTS.statusTtlMs,
    maxMessages: options.statusMaxMessages ?? WEBHOOK_DEFAULTS.statusMaxMessages,
    clock,
  });
  const keywords =
    options.keywords ??
    new KeywordDetector({
      extraOptOut: config.compliance.extraOptOutKeywords,
      extraOptIn: config.compliance.extraOptInKeywords,
      extraHelp: config.compliance.extraHelpKeywords,
    });
  return webhookRoutes({
    verifier: createSignatureVerifier(config.twilio.signing, logger),
    inbound: new InboundWebhook({ builder, publisher, dedup, keywords, metrics }),
    autoReply: autoReplierFor(ctx, builder, keywords, options.autoReplyRules),
    status: new StatusCallback({ builder, publisher, dedup, tracker, metrics }),
    metrics,
    logger,
    publishTimeoutMs: options.publishTimeoutMs ?? config.twilio.webhookAnswerDeadlineMs,
  });
}

/** The auto-replier of AUTO_REPLY_FILE (validated now, at start-up), or undefined when no rules are configured. */
function autoReplierFor(
  ctx: WebhookContext,
  builder: SmsEnvelopeBuilder,
  keywords: KeywordDetector,
  loaded: AutoReplyRules | undefined,
): AutoReplier | undefined {
  const { config } = ctx;
  const file = config.sms.autoReplyFile;
  if (loaded === undefined && file === undefined) return undefined;
  const validator = new SmsValidator({ maxSegments: config.twilio.maxSegments, smartEncoding: false });
  const rules = loaded ?? AutoReplyRules.load(file!, validator);
  if (!ctx.consent) {
    throw new IngressEgressError('IE_CONFIG_INVALID', 'auto-replies need the opt-out list (the consent check)');
  }
  return new AutoReplier({
    rules,
    keywords,
    consent: ctx.consent,
    builder,
    publisher: ctx.publisher,
    logger: ctx.logger.child({ part: 'auto-reply' }),
    statusCallbackUrl: config.twilio.statusCallbackUrl,
  });
}
