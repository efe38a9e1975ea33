import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config';
import { createLogger, createMetrics, type Logger, type Metrics } from '../observability';
import type { Connector } from '../connector/connector';
import { createEgressConsumer } from '../egress/create-egress-consumer';
import { createEventPublisher } from '../kafka/create-event-publisher';
import { createKafka } from '../kafka/create-kafka';
import { EventPublisher } from '../kafka/event-publisher';
import { ensureServiceTopics } from '../kafka/ensure-topics';
import { createTwilioConnector } from '../twilio/create-twilio-connector';
import { createApi, type ApiContext } from '../api';
import { TwilioConnector } from '../twilio/twilio-connector';
import { ConnectorManager } from './connector-manager';
import { IngressEgressServer, type ManagedPublisher, type Startable } from './ingress-egress-server';

export interface ServerDeps {
  logger?: Logger;
  metrics?: Metrics;
  /** The one kafkajs client of the process (publisher, egress lanes, ledger, consent, API); from config when omitted. */
  kafka?: Kafka;
  /** The Kafka publisher; built from config when omitted. */
  publisher?: ManagedPublisher;
  /** Connectors to register; the default set (from config) when omitted. */
  connectors?: Connector[];
  egressConsumer?: Startable & { isReady?(): boolean };
  onStopped?: () => Promise<void>;
  /** Replaces the start-up topic check (which runs by default with a Kafka EventPublisher). */
  checkTopics?: () => Promise<void>;
  /** Seams of the /api front door (tests): an outcome source, or a Kafka client for the sms.outcomes follower. */
  api?: Pick<ApiContext, 'outcomes' | 'kafka' | 'clock'>;
}

/** Builds the whole service without listening: tests call `server.app.inject()`. */
export function buildServer(config: AppConfig, deps: ServerDeps = {}): IngressEgressServer {
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const metrics = deps.metrics ?? createMetrics();
  // One kafkajs client for the whole process: every producer and consumer is made from it.
  const kafka = deps.kafka ?? createKafka(config.kafka, logger.child({ part: 'kafka' }));
  const publisher = deps.publisher ?? defaultPublisher(config, kafka, logger.child({ part: 'kafka' }), metrics);
  const connectors = new ConnectorManager(logger.child({ part: 'connectors' }));
  const list = deps.connectors ?? defaultConnectors(config, { logger, metrics, publisher, kafka });
  for (const c of list) connectors.register(c);
  // One egress consumer routes sms.egress to every connector that handles egress.
  const egressConsumer =
    deps.egressConsumer ??
    (list.some((c) => c.egress)
      ? createEgressConsumer(config, { router: connectors, publisher, logger, metrics, kafka })
      : undefined);
  // With a Kafka publisher (not a test's in-memory one), start-up first checks that every topic exists.
  const checkTopics =
    deps.checkTopics ??
    (publisher instanceof EventPublisher
      ? () => ensureServiceTopics(publisher.client, config, logger.child({ part: 'kafka' }), !!egressConsumer)
      : undefined);
  // The /api front door: writes to Kafka through the same publisher; reads the Twilio connector's ledger and consent.
  const twilio = list.find((c): c is TwilioConnector => c instanceof TwilioConnector);
  const api = createApi({
    config,
    publisher,
    logger: logger.child({ part: 'api' }),
    twilio: twilio?.services,
    kafka: deps.api?.kafka ?? (publisher instanceof EventPublisher ? publisher.client : undefined),
    ...(deps.api?.outcomes ? { outcomes: deps.api.outcomes } : {}),
    ...(deps.api?.clock ? { clock: deps.api.clock } : {}),
  });
  return new IngressEgressServer({
    registerRoutes: async (app, server) => api.register(app, server.apiRoutes),
    ...(api.watcher ? { services: [api.watcher] } : {}),
    config,
    logger,
    metrics,
    publisher,
    connectors,
    ...(egressConsumer ? { egressConsumer } : {}),
    ...(checkTopics ? { checkTopics } : {}),
    ...(deps.onStopped ? { onStopped: deps.onStopped } : {}),
  });
}

// The composition root: concrete parts are wired here as they exist.
function defaultPublisher(config: AppConfig, kafka: Kafka, logger: Logger, metrics: Metrics): ManagedPublisher {
  // The webhook answer deadline must be the limit a webhook meets (it is counted in twilio_webhook_timeouts_total
  // and alerted on), not the publisher's own: the publisher waits at least a second longer.
  const publishTimeoutMs = Math.max(10_000, config.twilio.webhookAnswerDeadlineMs + 1_000);
  return createEventPublisher(config, { logger, metrics, kafka }, { publishTimeoutMs });
}

function defaultConnectors(
  config: AppConfig,
  ctx: { logger: Logger; metrics: Metrics; publisher: ManagedPublisher; kafka: Kafka },
): Connector[] {
  const connectors: Connector[] = [];
  // With TWILIO_ENABLED=true the schema demanded the credentials, so `account` is there.
  const account = config.twilio.enabled ? config.twilio.account : undefined;
  if (account) {
    connectors.push(
      createTwilioConnector({
        config,
        account,
        logger: ctx.logger.child({ part: 'twilio' }),
        metrics: ctx.metrics,
        publisher: ctx.publisher,
        kafka: ctx.kafka,
      }),
    );
  }
  return connectors;
}
