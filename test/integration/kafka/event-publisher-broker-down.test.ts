import type { TopicNames } from '../../../src/config';
import { isRetriable } from '../../../src/errors';
import { createKafka, EventPublisher } from '../../../src/kafka';
import { silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { sampleEnvelopes } from '../../helpers/envelopes';
import { createTestTopics, testKafkaConfig } from '../../helpers/kafka';
import { startOwnCluster, type TestCluster } from '../../helpers/kafka-cluster';

jest.setTimeout(60_000);

// These tests stop and restart a broker, so they run a cluster of their own
// (Apache Kafka, or the mock in a mock run) whatever KAFKA_BROKERS points at.
let topics: TopicNames;
async function ownBroker(): Promise<TestCluster> {
  const cluster = await startOwnCluster();
  topics = await createTestTopics('down', cluster.brokers);
  return cluster;
}

function publisherFor(brokers: string[], options: { publishTimeoutMs?: number } = {}) {
  const publisher = new EventPublisher({
    kafka: createKafka(testKafkaConfig(topics, brokers), silentLogger, {
      connectionTimeoutMs: 500,
      retry: { initialRetryTime: 50, maxRetryTime: 200, retries: 2 },
    }),
    topics,
    publishTimeoutMs: options.publishTimeoutMs ?? 3000,
    sendRetries: 2,
    reconnectBackoffMs: { initial: 100, max: 500 },
  });
  onCleanup(() => publisher.stop());
  return publisher;
}

describe('EventPublisher when the broker is down', () => {
  const event = sampleEnvelopes()['sms.inbound.received'];

  it('fails start() with a retriable IE_KAFKA_UNAVAILABLE when nothing listens', async () => {
    const broker = await ownBroker();
    const brokers = broker.brokers;
    await broker.stop();
    const publisher = publisherFor(brokers);
    const err = await publisher.start().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IE_KAFKA_UNAVAILABLE', retriable: true });
    expect(publisher.isReady()).toBe(false);
    expect(publisher.status).toBe('idle');
  });

  it('rejects publishes with a retriable error while the broker is down, and recovers when it is back', async () => {
    const broker = await ownBroker();
    const publisher = publisherFor(broker.brokers);
    await publisher.start();
    await expect(publisher.publish(event)).resolves.toMatchObject({ topic: topics.inbound });

    await broker.node('stop');
    const started = Date.now();
    const failure = await publisher.publish(event).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'IE_KAFKA_UNAVAILABLE' });
    expect(isRetriable(failure)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000 + 1000);
    expect(publisher.isReady()).toBe(false);

    // While reconnecting, a publish waits for its deadline, then fails as not sent.
    const waiting = await publisher.publish(event).catch((e: unknown) => e);
    expect(waiting).toMatchObject({ code: 'IE_KAFKA_UNAVAILABLE', retriable: true, details: { maybeWritten: false } });

    // The same ports come back: the publisher reconnects by itself.
    await broker.node('start');
    const deadline = Date.now() + 20_000;
    while (!publisher.isReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(publisher.isReady()).toBe(true);
    await expect(publisher.publish(event)).resolves.toMatchObject({ topic: topics.inbound });
  });

  it('stops promptly while the broker is down, failing what was waiting', async () => {
    const broker = await ownBroker();
    const publisher = publisherFor(broker.brokers, { publishTimeoutMs: 30_000 });
    await publisher.start();
    await broker.node('stop');
    const first = publisher.publish(event).catch((e: unknown) => e);
    // Let the first batch fail so the publisher is reconnecting and the next one queues.
    await first;
    const queued = publisher.publish(event).catch((e: unknown) => e);
    const started = Date.now();
    await publisher.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await queued).toMatchObject({ code: 'IE_KAFKA_NOT_CONNECTED', retriable: true });
    expect(publisher.status).toBe('stopped');
  });
});
