import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type twilio from 'twilio';
import type { AppConfig, TwilioAccount } from '../../config';
import type { ConnectorPart } from '../../connector';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import { DlqWriter } from '../../egress/dlq-writer';
import { createKafka } from '../../kafka/create-kafka';
import type { Logger, Metrics } from '../../observability';
import {
  CIRCUIT_STATE_VALUE,
  RetryPolicy,
  retryOptionsFor,
  systemClock,
  type Clock,
  type RetryPolicyOptions,
} from '../../resilience';
import { initTwilioErrorSeries } from '../rest/error-code-label';
import { AccountCircuits } from './account-circuits';
import { classifySendError } from './classify-send-error';
import type { SendFailure } from './delivery';
import { KafkaSendLedger } from './kafka-send-ledger';
import { createEgressTwilioClient } from './lean-request-client';
import { keepRetryAfter } from './retry-after-hook';
import type { SendLedger } from './send-ledger';
import { widenSocketPool } from './twilio-messages-adapter';

export interface SharedEgressContext {
  config: AppConfig;
  /** The account egress sends with (the connector exists only when Twilio is enabled). */
  account: TwilioAccount;
  logger: Logger;
  metrics?: Metrics | undefined;
  publisher: EventPublisherPort;
  /** Seams: each is built from the configuration when omitted. */
  kafka?: Kafka;
  client?: twilio.Twilio;
  ledger?: SendLedger & { start?(): Promise<void>; stop?(): Promise<void>; readonly state?: string };
  clock?: Clock;
  instanceId?: string;
  retry?: RetryPolicyOptions;
  classify?: (err: unknown) => SendFailure;
}

/**
 * What every request type on the egress topic (SMS, voice calls) shares: one
 * send ledger, one circuit per account, one retry policy, one DLQ, one Twilio
 * client (our transport, timeouts and socket pool).
 */
export interface SharedEgressParts {
  ledger: SendLedger;
  circuits: AccountCircuits;
  retry: RetryPolicy;
  classify: (err: unknown) => SendFailure;
  dlq: DlqWriter;
  clock: Clock;
  instanceId: string;
  client: twilio.Twilio;
  /** Long-lived parts to run as connector foundations (the ledger reader). */
  parts: ConnectorPart[];
}

/** The parts egress request types share, from the configuration. */
export function createSharedEgressParts(ctx: SharedEgressContext): SharedEgressParts {
  const { config, account, metrics } = ctx;
  const t = config.twilio;
  const logger = ctx.logger.child({ part: 'egress' });
  const clock = ctx.clock ?? systemClock;
  const instanceId = ctx.instanceId ?? randomUUID();
  const client =
    ctx.client ??
    createEgressTwilioClient({
      accountSid: account.sid,
      authToken: account.authToken,
      apiBaseUrl: t.apiBaseUrl,
      timeoutMs: t.timeoutMs,
      connectTimeoutMs: t.connectTimeoutMs,
      maxSockets: t.httpPool.maxSockets,
      idleTimeoutMs: t.httpPool.idleTimeoutMs,
    });
  widenSocketPool(client, t.httpPool.maxSockets);
  keepRetryAfter(client);
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
      maxEntries: config.egress.ledgerMaxEntries,
      onStats: (entries, forgottenBefore) => {
        metrics?.ledgerEntries.set(entries);
        metrics?.ledgerWindow.set(Math.max(0, (clock.now() - forgottenBefore) / 1000));
      },
    });
  const circuits = new AccountCircuits({
    failureThreshold: t.circuit.failureThreshold,
    resetTimeoutMs: t.circuit.resetTimeoutMs,
    successThreshold: t.circuit.successThreshold,
    clock,
    onChange: (worst, accountSid, state) => {
      metrics?.circuitState.set(CIRCUIT_STATE_VALUE[worst]);
      logger.warn({ accountSid, state }, `Twilio circuit ${state}`);
    },
  });
  metrics?.circuitState.set(0);
  initTwilioErrorSeries(metrics);
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
  return {
    ledger,
    circuits,
    retry: new RetryPolicy({
      ...(ctx.retry ?? retryOptionsFor(config.nodeEnv)),
      maxAttempts: config.egress.maxAttempts,
    }),
    classify: ctx.classify ?? classifySendError,
    dlq: new DlqWriter(ctx.publisher, config.kafka.topics.egressDlq, metrics, clock),
    clock,
    instanceId,
    client,
    parts,
  };
}
