import type { AppConfig } from '../config';
import { createConsentCheck } from '../egress/create-consent-check';
import { createTwilioEgress } from '../egress/create-twilio-egress';
import { createKafka } from '../kafka/create-kafka';
import type { EventPublisherPort } from '../kafka/publisher-port';
import type { Logger, Metrics } from '../observability';
import { createConversationsIngress } from './conversations';
import { TwilioConnector, type TwilioConnectorParts } from './twilio-connector';
import { createWebhookRoutes } from './webhooks';

export interface TwilioConnectorContext {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  publisher: EventPublisherPort;
}

/**
 * Wires the Twilio connector's parts from the configuration. Each capability
 * (webhooks, Conversations, egress) adds its part here.
 */
export function createTwilioConnector(ctx: TwilioConnectorContext): TwilioConnector {
  const parts: TwilioConnectorParts = { routes: [], foundations: [], ingress: [] };
  // Programmable Messaging webhooks: inbound SMS/MMS and status callbacks.
  parts.routes.push(createWebhookRoutes(ctx));
  let conversationReply: ReturnType<typeof createConversationsIngress>['sendConversationReply'] | undefined;
  if (ctx.config.twilio.conversationsEnabled) {
    // The Conversations session (ingress part) and its webhook route; its
    // `sendConversationReply` is for egress events that carry a conversationSid.
    const conversations = createConversationsIngress(ctx);
    parts.routes.push(conversations.route);
    parts.ingress.push(conversations.client);
    conversationReply = conversations.sendConversationReply;
  }
  // Egress: the opt-out list (loaded from the consent topic) and the send ledger are foundations,
  // running before the egress consumer hands out records.
  const kafka = createKafka(ctx.config.kafka, ctx.logger.child({ part: 'egress-kafka' }));
  const consent = createConsentCheck({ config: ctx.config, kafka, logger: ctx.logger, metrics: ctx.metrics });
  parts.foundations.push(consent.part);
  const egress = createTwilioEgress({
    ...ctx,
    kafka,
    consent: consent.check,
    consentReady: consent.ready,
    conversationReply,
  });
  parts.foundations.push(...egress.parts);
  parts.egress = egress.handler;
  return new TwilioConnector(parts);
}
