/**
 * The broker a benchmark runs against, chosen once for the whole `npm run bench`:
 *
 *   KAFKA_BROKERS=host:port,…   an external cluster (nothing started or stopped)
 *   BENCH_BROKER=kafka          Apache Kafka from scripts/kafka.sh (1 KRaft broker on loopback, topic auto-creation on)
 *   BENCH_BROKER=mock           librdkafka's mock cluster (build/kafka-mock-broker, 1 broker, no JVM)
 *   neither                     kafka when `java` is on PATH, else mock
 *
 * Benchmarks are not about topic management, so the local Apache Kafka runs with auto-creation on
 * (`--auto-create-topics`), and the services a benchmark starts get KAFKA_CREATE_TOPICS=true
 * (see `prepareServiceTopics`) since the service refuses to start when one of its topics is missing.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../src/config';
import { topicSpecs } from '../src/kafka/ensure-topics';
import { LocalKafkaBroker } from '@ingress-egress/sandbox';
import { kafkaSh, REPO_ROOT } from '../scripts/kafka-sh';

export type BenchBrokerKind = 'kafka' | 'mock' | 'external';

export interface BenchBroker {
  kind: BenchBrokerKind;
  brokers: string[];
  /** host:port,… */
  bootstrap: string;
  /** What the report names, e.g. "Apache Kafka 4.1.1 (KRaft, 1 broker, local)". */
  label: string;
  stop(): Promise<void>;
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** The broker `startBenchBroker` will start, from the environment alone (the report's section names use it). */
export function benchBrokerKind(env: NodeJS.ProcessEnv = process.env): BenchBrokerKind {
  if (env.KAFKA_BROKERS?.trim()) return 'external';
  const wanted = env.BENCH_BROKER?.trim().toLowerCase();
  if (wanted === 'mock' || wanted === 'kafka') return wanted;
  if (wanted) throw new Error(`BENCH_BROKER must be mock or kafka, not ${env.BENCH_BROKER}`);
  return onPath('java', env) ? 'kafka' : 'mock';
}

/** Short name of a broker kind, for section names in docs/benchmarks.md: "publish (Apache Kafka)". */
export function brokerKindName(kind: BenchBrokerKind): string {
  return { kafka: 'Apache Kafka', mock: 'mock', external: 'external' }[kind];
}

/** The Apache Kafka version scripts/kafka.sh runs (pinned in scripts/kafka/pom.xml). */
function kafkaVersion(): string {
  try {
    const pom = readFileSync(path.join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml'), 'utf8');
    return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? '4.x';
  } catch {
    return '4.x';
  }
}

/**
 * Makes the topics of a service the benchmark is about to start exist, and returns the environment to add to
 * the service's: the service refuses to start when one of its topics is missing, and the benchmarks use fresh
 * topic names every run. On Apache Kafka the service creates them itself (KAFKA_CREATE_TOPICS=true); the mock
 * has no CreateTopics, so they are made here by asking for their metadata (which creates a topic on the mock).
 */
export async function prepareServiceTopics(
  broker: BenchBroker,
  serviceEnv: Record<string, string>,
): Promise<Record<string, string>> {
  if (broker.kind !== 'mock') return { KAFKA_CREATE_TOPICS: 'true' };
  const config = loadConfig(serviceEnv);
  const topics = [...new Set(topicSpecs(config.kafka.topics, config.egress.ledgerTopic).map((t) => t.topic))];
  const admin = new Kafka({ clientId: 'bench-topics', brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics });
  } finally {
    await admin.disconnect();
  }
  return {};
}

export async function startBenchBroker(): Promise<BenchBroker> {
  const kind = benchBrokerKind();
  if (kind === 'external') {
    const brokers = process.env
      .KAFKA_BROKERS!.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    return {
      kind,
      brokers,
      bootstrap: brokers.join(','),
      label: `external cluster (KAFKA_BROKERS=${brokers.join(',')})`,
      stop: () => Promise.resolve(),
    };
  }
  if (kind === 'mock') {
    const broker = new LocalKafkaBroker({ brokers: 1 });
    const bootstrap = await broker.start();
    return {
      kind,
      brokers: bootstrap.split(','),
      bootstrap,
      label: 'librdkafka mock cluster (1 broker, local)',
      stop: () => broker.stop(),
    };
  }
  mkdirSync(path.join(REPO_ROOT, 'build', 'kafka'), { recursive: true });
  const dir = mkdtempSync(path.join(REPO_ROOT, 'build', 'kafka', 'bench-'));
  let bootstrap: string;
  try {
    const out = await kafkaSh([
      'start',
      '--brokers',
      '1',
      '--dir',
      dir,
      '--watch',
      String(process.pid),
      '--auto-create-topics',
    ]);
    bootstrap = out.split('\n').pop()!.trim();
  } catch (err) {
    await kafkaSh(['stop', '--dir', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    kind,
    brokers: bootstrap.split(','),
    bootstrap,
    label: `Apache Kafka ${kafkaVersion()} (KRaft, 1 broker, local)`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kafkaSh(['stop', '--dir', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
