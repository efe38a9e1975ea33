import { SmsEnvelopeBuilder } from '../../envelope';
import { RateLimiter } from '../../resilience';
import { PhoneNormalizer, type CountryCode } from '../../sms/phone';
import { SmsValidator } from '../../sms/validate';
import type { ConversationReply, ConversationReplyResult } from '../conversations/send-conversation-reply';
import type { ConnectorPart } from '../../connector';
import {
  createSharedEgressParts,
  type SharedEgressContext,
  type SharedEgressParts,
} from './create-shared-egress-parts';
import type { ConsentCheck, EgressDeps } from './egress-deps';
import { loadTemplates } from './load-templates';
import { IN_FLIGHT_GRACE_MS, OpenAttempts } from './attempt-over';
import type { SendLedger } from './send-ledger';
import { SmsOutboundValidator, type TemplateRenderer } from './sms-outbound-validator';
import { TwilioEgressHandler, type EgressExtension } from './twilio-egress-handler';
import { TwilioMessagesAdapter } from './twilio-messages-adapter';
import type { TwilioMessagesPort } from './twilio-messages-port';

export interface TwilioEgressContext extends SharedEgressContext {
  /** The opt-out list (the ConsentStore the consent loader keeps current). */
  consent: ConsentCheck;
  /** Resolves once the opt-out list has caught up (see createConsentCheck). */
  consentReady?: () => Promise<void>;
  templates?: TemplateRenderer | undefined;
  conversationReply?: ((reply: ConversationReply) => Promise<ConversationReplyResult>) | undefined;
  /** What SMS egress shares with the other request types on its topic; built from this context when omitted. */
  shared?: SharedEgressParts;
  /** Other request types on the egress topic (voice calls), built on `shared`. */
  extensions?: EgressExtension[];
  /** Seam: the Messages API port (tests); an adapter over the shared client when omitted. */
  twilio?: TwilioMessagesPort;
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
  const shared = ctx.shared ?? createSharedEgressParts(ctx);
  const { clock, ledger } = shared;
  const messages = ctx.twilio ?? new TwilioMessagesAdapter(shared.client);
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
      onShare: (share) => metrics?.rateLimitShare.set(share),
    }),
    circuits: shared.circuits,
    retry: shared.retry,
    classify: shared.classify,
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
    dlq: shared.dlq,
    instanceId: shared.instanceId,
    twilioTimeoutMs: t.timeoutMs,
    openAttempts: new OpenAttempts(t.timeoutMs + IN_FLIGHT_GRACE_MS),
    conversationReply: ctx.conversationReply,
    consentReady: ctx.consentReady,
  };
  const handler = new TwilioEgressHandler(deps, { extensions: ctx.extensions ?? [] });
  return { handler, ledger, messages, parts: shared.parts };
}
