import type { Kafka } from 'kafkajs';
import { JsonEnvelopeCodec } from '../../../src/envelope';
import { DlqWriter } from '../../../src/egress/dlq-writer';
import { EgressConsumer } from '../../../src/egress/egress-consumer';
import { createMetrics, silentLogger } from '../../../src/observability';
import { DEFAULT_RETRY, RetryPolicy } from '../../../src/resilience';
import { MemoryPublisher } from '../../helpers/memory-publisher';
import { waitFor } from '../../helpers/wait-for';

const EVENTS = { GROUP_JOIN: 'group_join', HEARTBEAT: 'heartbeat', CRASH: 'crash' } as const;

/**
 * A kafkajs consumer whose group joins and crashes the test plays. Its methods are own properties, as the
 * service copies a consumer's methods (createStoppableConsumer).
 */
function fakeConsumer() {
  const listeners = new Map<string, ((e: { payload: unknown }) => void)[]>();
  let failRun: ((err: Error) => void) | undefined;
  const c = {
    events: EVENTS,
    disconnected: false,
    runs: 0,
    on: (name: string, fn: (e: { payload: unknown }) => void) => {
      listeners.set(name, [...(listeners.get(name) ?? []), fn]);
      return () => undefined;
    },
    emit: (name: string, payload: unknown) => {
      for (const fn of listeners.get(name) ?? []) fn({ payload });
    },
    connect: async () => {},
    subscribe: async () => {},
    run: () => {
      c.runs++;
      return new Promise<void>((resolve, reject) => {
        failRun = reject;
        c.join = () => {
          c.emit(EVENTS.GROUP_JOIN, { memberAssignment: { egress: [0, 1] } });
          resolve();
        };
      });
    },
    join: () => {},
    /** The join at run() fails for good (kafkajs rejects run()). */
    failJoin: (err: Error) => failRun?.(err),
    crash: (restart: boolean) => c.emit(EVENTS.CRASH, { error: new Error('There is no broker available'), restart }),
    disconnect: async () => {
      c.disconnected = true;
    },
    pause: () => {},
    resume: () => {},
    pausedNow: (): unknown => [{ topic: 'egress', partitions: [1] }],
    paused: () => c.pausedNow(),
  };
  return c;
}
type FakeConsumer = ReturnType<typeof fakeConsumer>;

function fakeKafka() {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: () => {
      const c = fakeConsumer();
      consumers.push(c);
      return c;
    },
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchTopicMetadata: async () => ({ topics: [{ name: 'egress', partitions: [{}, {}] }] }),
    }),
  } as unknown as Kafka;
  return { kafka, consumers };
}

async function restarts(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'kafka_egress_consumer_restarts_total');
  return (m?.values[0]?.value as number | undefined) ?? 0;
}

/** An egress consumer routing nowhere, whose restarts back off from `delayMs`. */
function egressConsumer(kafka: Kafka, delayMs: number, metrics?: ReturnType<typeof createMetrics>): EgressConsumer {
  return new EgressConsumer({
    kafka,
    topic: 'egress',
    groupId: 'g',
    codec: new JsonEnvelopeCodec(),
    router: { egressHandlerFor: () => undefined, list: () => [] },
    dlq: new DlqWriter(new MemoryPublisher(), 'dlq'),
    logger: silentLogger,
    metrics,
    retry: new RetryPolicy({ ...DEFAULT_RETRY, initialDelayMs: delayMs, maxDelayMs: delayMs * 4 }),
  });
}

describe('EgressConsumer when kafkajs stops its consumer for good', () => {
  it('is not ready, starts a new consumer with back-off until one joins, counts each restart, and is ready again', async () => {
    const { kafka, consumers } = fakeKafka();
    const metrics = createMetrics({ defaultMetrics: false });
    const consumer = egressConsumer(kafka, 5, metrics);
    await consumer.start();
    consumers[0]!.join();
    expect(consumer.isReady()).toBe(true);

    // A crash kafkajs restarts by itself changes nothing here.
    consumers[0]!.crash(true);
    expect(consumer.isReady()).toBe(true);
    expect(consumers).toHaveLength(1);

    // One it will not restart: not ready until a new consumer has joined.
    consumers[0]!.crash(false);
    expect(consumer.isReady()).toBe(false);
    await waitFor(() => consumers.length === 2 && consumers[1]!.runs === 1, 2000, 'a second consumer');
    expect(consumers[0]!.disconnected).toBe(true);
    // Its join fails too (the broker is still away): another restart.
    consumers[1]!.failJoin(new Error('There is no broker available'));
    await waitFor(() => consumers.length === 3 && consumers[2]!.runs === 1, 2000, 'a third consumer');
    expect(consumer.isReady()).toBe(false);
    consumers[2]!.join();
    expect(consumer.isReady()).toBe(true);
    expect(consumer.stats().joins).toBe(2);
    expect(await restarts(metrics)).toBe(2);

    await consumer.stop();
    expect(consumers[2]!.disconnected).toBe(true);
    // A crash after stop starts nothing.
    consumers[2]!.crash(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(consumers).toHaveLength(3);
  });

  it('stop() during a restart back-off ends it at once and leaves no consumer running', async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = egressConsumer(kafka, 60_000);
    await consumer.start();
    consumers[0]!.join();
    consumers[0]!.crash(false);
    const started = Date.now();
    await consumer.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(consumers).toHaveLength(1);
    expect(consumers[0]!.disconnected).toBe(true);
  });
});

describe('EgressConsumer.diagnostics', () => {
  it('reports kafkajs pauses, detached batches, the assignment, commits per partition and joins', async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = egressConsumer(kafka, 5);
    await consumer.start();
    consumers[0]!.join();
    await waitFor(() => consumer.hasJoined, 2_000, 'the join');
    expect(consumer.diagnostics()).toEqual({
      kafkaPaused: [{ topic: 'egress', partitions: [1] }],
      lanePaused: false,
      detached: [],
      assigned: [0, 1],
      commits: {},
      joins: 1,
    });
    consumers[0]!.pausedNow = () => {
      throw new Error('Consumer group was not initialized');
    };
    expect(consumer.diagnostics().kafkaPaused).toBe('Error: Consumer group was not initialized');
    await consumer.stop();
  });
});
