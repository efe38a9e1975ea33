import type { AppConfig } from '../config';
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
  if (ctx.config.twilio.conversationsEnabled) {
    // The Conversations session (ingress part) and its webhook route; its
    // `sendConversationReply` is for egress events that carry a conversationSid.
    const conversations = createConversationsIngress(ctx);
    parts.routes.push(conversations.route);
    parts.ingress.push(conversations.client);
  }
  void ctx;
  return new TwilioConnector(parts);
}
