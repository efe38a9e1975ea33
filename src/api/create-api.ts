import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config';
import type { EventPublisherPort } from '../connector/event-publisher-port';
import { SmsEnvelopeBuilder } from '../envelope';
import { createCodec } from '../kafka/create-codec';
import type { Logger } from '../observability';
import { systemClock, type Clock } from '../common/clock';
import type { TwilioServices } from '../twilio/twilio-connector';
import type { ApiDeps } from './api-deps';
import type { ApiRouteRecord } from '../api-kit';
import { registerDlqRoutes } from './dlq-routes';
import { registerDocsRoutes } from './docs-routes';
import { IdempotencyKeys } from './idempotency-keys';
import { registerLookupRoutes } from './lookup-routes';
import { OutcomeWatcher } from './outcome-watcher';
import { PublishedRequests } from './published-requests';
import { registerSmsRoutes } from './sms-routes';

export const API_VERSION = '1.0.0';

export interface ApiContext {
  config: AppConfig;
  publisher: EventPublisherPort;
  logger: Logger;
  /** The Twilio connector's ledger, consent store and look-ups (undefined when Twilio is disabled). */
  twilio?: TwilioServices | undefined;
  /** For the sms.outcomes follower; without it `?wait` answers 202 at once and look-ups see no outcomes. */
  kafka?: Kafka | undefined;
  /** A ready-made outcome source (tests). */
  outcomes?: ApiDeps['outcomes'];
  clock?: Clock;
}

export interface Api {
  /** Registers every /api route (the token layer must be installed on `app` already). */
  register(app: FastifyInstance, routes: readonly ApiRouteRecord[]): void;
  /** The sms.outcomes follower, when there is one: start it with the service, stop it before the producer. */
  watcher: OutcomeWatcher | undefined;
}

/** The HTTP front door: send, bulk, cancel, look-ups, consent, the OpenAPI document and the docs page. */
export function createApi(ctx: ApiContext): Api {
  const clock = ctx.clock ?? systemClock;
  const watcher = ctx.kafka
    ? new OutcomeWatcher({
        kafka: ctx.kafka,
        topic: ctx.config.kafka.topics.outcomes,
        decode: (value) => codec.decode(value),
        logger: ctx.logger.child({ part: 'api-outcomes' }),
        groupIdPrefix: `${ctx.config.kafka.groupId}-api-outcomes`,
        clock,
      })
    : undefined;
  const codec = createCodec(ctx.config);
  const deps: ApiDeps = {
    config: ctx.config,
    publisher: ctx.publisher,
    builder: new SmsEnvelopeBuilder(clock),
    logger: ctx.logger,
    outcomes: ctx.outcomes ?? watcher,
    twilio: ctx.twilio,
    kafka: ctx.kafka,
    requests: new PublishedRequests(clock),
    idempotency: new IdempotencyKeys({ clock }),
  };
  return {
    watcher,
    register(app, routes) {
      registerSmsRoutes(app, deps);
      registerLookupRoutes(app, deps);
      registerDlqRoutes(app, deps);
      registerDocsRoutes(app, routes, { version: API_VERSION });
    },
  };
}
