import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config';
import type { EventPublisherPort } from '../connector/event-publisher-port';
import type { SmsEnvelopeBuilder } from '../envelope';
import type { Logger } from '../observability';
import type { TwilioServices } from '../twilio/twilio-connector';
import type { OutcomeWatcher } from './outcome-watcher';
import type { PublishedRequests } from './published-requests';
import type { IdempotencyKeys } from './idempotency-keys';

/** What the /api routes work with. */
export interface ApiDeps {
  config: AppConfig;
  /** Publishes with acks=all; resolves once Kafka acknowledged. */
  publisher: EventPublisherPort;
  builder: SmsEnvelopeBuilder;
  logger: Logger;
  /** Follows sms.outcomes (for `?wait` and request look-ups); undefined without Kafka (tests). */
  outcomes: Pick<OutcomeWatcher, 'waitFor' | 'outcomesOf'> | undefined;
  /** The Twilio connector's ledger, consent store and message look-ups; undefined when Twilio is disabled. */
  twilio: TwilioServices | undefined;
  /** For the DLQ routes; undefined without Kafka (tests). */
  kafka: Kafka | undefined;
  requests: PublishedRequests;
  idempotency: IdempotencyKeys;
}
