import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LocalKafkaBroker } from '@ingress-egress/sandbox';
import { onCleanup } from './cleanup';
import { isMockBroker, testBrokers, testKafka } from './kafka';
import { kafkaSh, REPO_ROOT as ROOT } from '../../scripts/kafka-sh';

/** What a broker node can be made to do: the faults the reliability tests inject. */
export type NodeAction = 'stop' | 'kill' | 'freeze' | 'thaw' | 'start';

/**
 * A cluster of the test's own, for tests that stop, kill or freeze brokers: Apache Kafka from
 * scripts/kafka.sh (1 or 3 nodes, ids 1..n), or librdkafka's mock when the run is on the mock
 * (IE_TEST_BROKER=mock; one node, which starts empty again after a stop).
 */
export interface TestCluster {
  readonly kind: 'kafka' | 'mock';
  readonly brokers: string[];
  /** SIGTERM (waits for the exit), SIGKILL, SIGSTOP, SIGCONT or start again on the same port and data. */
  node(action: NodeAction, id?: number): Promise<void>;
  /** The node id leading a topic's partition (Apache Kafka only). */
  leaderOf(topic: string, partition?: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a cluster of the test's own (stopped after the test, or the file when called from beforeAll). */
export async function startOwnCluster(options: { brokers?: 1 | 3; apacheKafka?: boolean } = {}): Promise<TestCluster> {
  const n = options.brokers ?? 1;
  if (isMockBroker() && !options.apacheKafka) {
    if (n !== 1) throw new Error('a 3-broker cluster needs Apache Kafka (the mock run cannot fail over)');
    const broker = new LocalKafkaBroker({ brokers: 1 });
    onCleanup(() => broker.stop());
    await broker.start();
    return {
      kind: 'mock',
      brokers: broker.brokerList,
      node: async (action) => {
        if (action === 'start') await broker.start();
        else if (action === 'stop' || action === 'kill') await broker.stop();
        else throw new Error(`the mock broker cannot ${action}`);
      },
      leaderOf: () => Promise.reject(new Error('leaderOf needs Apache Kafka')),
      stop: () => broker.stop(),
    };
  }
  mkdirSync(path.join(ROOT, 'build', 'kafka'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, 'build', 'kafka', 'test-'));
  const out = await kafkaSh(['start', '--brokers', String(n), '--dir', dir, '--watch', String(process.pid)]);
  const bootstrap = out.split('\n').pop()!;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kafkaSh(['stop', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  };
  onCleanup(stop);
  const brokers = bootstrap.split(',');
  return {
    kind: 'kafka',
    brokers,
    node: async (action, id = 1) => {
      await kafkaSh(['node', action, String(id), '--dir', dir]);
    },
    leaderOf: async (topic, partition = 0) => {
      const admin = testKafka(brokers).admin();
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const p = meta.topics[0]?.partitions.find((x) => x.partitionId === partition);
        if (!p) throw new Error(`no partition ${partition} of ${topic}`);
        return p.leader;
      } finally {
        await admin.disconnect();
      }
    },
    stop,
  };
}

/**
 * Brokers that behave like Apache Kafka (compaction, persistence): the run's own unless it is on the mock,
 * then a local Apache Kafka for this test.
 */
export async function apacheKafkaBrokers(): Promise<string[]> {
  if (!isMockBroker()) return testBrokers();
  return (await startOwnCluster({ apacheKafka: true })).brokers;
}
