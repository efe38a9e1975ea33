import { LocalKafkaBroker } from '../../src/kafka/local-broker';

/**
 * Integration and e2e tests need a Kafka-protocol broker. With KAFKA_BROKERS
 * set (a real cluster, or the one validate_deliverable.sh started) they use it;
 * otherwise a local mock broker is started for the run.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) return;
  const broker = new LocalKafkaBroker({ brokers: 1 });
  const bootstrap = await broker.start();
  process.env.KAFKA_BROKERS = bootstrap;
  process.env.IE_TEST_BROKER = 'mock';
  (globalThis as { __IE_BROKER__?: LocalKafkaBroker }).__IE_BROKER__ = broker;
}
