import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LocalKafkaBroker } from '@ingress-egress/sandbox';
import { kafkaSh } from '../../scripts/kafka-sh';

interface GlobalBroker {
  stop(): Promise<unknown>;
}

/**
 * Integration and e2e tests need a broker. With KAFKA_BROKERS set (the local
 * Apache Kafka validate_deliverable.sh started, or any external cluster) they
 * use it. Otherwise this run starts one: Apache Kafka from scripts/kafka.sh,
 * or librdkafka's mock cluster when IE_TEST_BROKER=mock.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    process.env.IE_TEST_BROKER ??= 'external';
    return;
  }
  let broker: GlobalBroker;
  if (process.env.IE_TEST_BROKER === 'mock') {
    const mock = new LocalKafkaBroker({ brokers: 1 });
    process.env.KAFKA_BROKERS = await mock.start();
    broker = mock;
  } else {
    const root = path.resolve(__dirname, '..', '..');
    mkdirSync(path.join(root, 'build', 'kafka'), { recursive: true });
    const dir = mkdtempSync(path.join(root, 'build', 'kafka', 'jest-'));
    const out = await kafkaSh(['start', '--dir', dir, '--watch', String(process.pid)]);
    process.env.KAFKA_BROKERS = out.split('\n').pop()!;
    process.env.IE_TEST_BROKER = 'kafka';
    broker = {
      stop: async () => {
        await kafkaSh(['stop', '--dir', dir]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  (globalThis as { __IE_BROKER__?: GlobalBroker }).__IE_BROKER__ = broker;
}
