import type { AppConfig } from '../config';
import type { EventPublisherPort } from '../kafka/publisher-port';
import type { Logger, Metrics } from '../observability';
import { TwilioConnector, type TwilioConnectorParts } from './twilio-connector';

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
  void ctx;
  return new TwilioConnector(parts);
}
