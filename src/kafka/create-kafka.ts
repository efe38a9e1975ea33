import { Kafka, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { AppConfig } from '../config';
import type { Logger } from '../observability';
import { kafkaLogCreator, kafkaLogLevel } from './kafka-log';

export interface KafkaClientOptions {
  /** kafkajs client id; KAFKA_CLIENT_ID by default. */
  clientId?: string;
  /** TCP connect timeout per broker (kafkajs default 1000). */
  connectionTimeoutMs?: number;
  /** Time to wait for any broker response (kafkajs default 30000). */
  requestTimeoutMs?: number;
  /** Retry of connects and requests. The default gives up after about 3 s so callers see outages quickly. */
  retry?: RetryOptions;
}

export const DEFAULT_KAFKA_RETRY: Readonly<RetryOptions> = {
  initialRetryTime: 100,
  maxRetryTime: 2000,
  retries: 5,
};

function sasl(config: AppConfig['kafka']['sasl']): SASLOptions | undefined {
  if (!config) return undefined;
  const { username, password } = config;
  switch (config.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** A kafkajs client from the service configuration (brokers, TLS, SASL), logging through pino. */
export function createKafka(config: AppConfig['kafka'], logger: Logger, options: KafkaClientOptions = {}): Kafka {
  const auth = sasl(config.sasl);
  return new Kafka({
    clientId: options.clientId ?? config.clientId,
    brokers: [...config.brokers],
    ssl: config.ssl,
    ...(auth ? { sasl: auth } : {}),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    retry: { ...DEFAULT_KAFKA_RETRY, ...options.retry },
    logLevel: kafkaLogLevel(logger),
    logCreator: kafkaLogCreator(logger),
  });
}
