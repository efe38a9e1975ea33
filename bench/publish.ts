/**
 * Benchmark: envelopes/s through EventPublisher (validation, JSON encoding,
 * CloudEvents headers, coalesced batches, acks=all, idempotent producer) with
 * 1000 publishes in flight, next to a raw kafkajs producer sending the same
 * bytes (key, value, headers) in batches of 1000 with the same producer
 * settings, in the same run against the same broker.
 *
 * The broker is bench/broker.ts's choice: a local Apache Kafka (default when
 * Java is present), librdkafka's mock (BENCH_BROKER=mock) or KAFKA_BROKERS.
 * The mock keeps about 5 MB per partition and drops older records; only
 * acknowledgements are counted, so that does not matter here.
 *
 *   npm run bench publish        BENCH_PUBLISH_COUNT=20000 BENCH_BROKER=mock npm run bench publish
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { CompressionTypes, type Kafka, type Message } from 'kafkajs';
import type { TopicNames } from '../src/config';
import { JsonEnvelopeCodec, SmsEnvelopeBuilder, type InternalEventV2 } from '../src/envelope';
import { cloudEventHeaders, createKafka, EventPublisher, keyFor } from '../src/kafka';
import { createLogger } from '../src/observability';
import { startBenchBroker } from './broker';
import { benchTopics } from './topics';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, ratioText, table } from './report';
import { clockFrom } from '../src/common/clock';

const TARGET_RATIO = 0.8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The raw producer's batch size (FACTS.md measured ~80,000 records/s with it on a quiet machine). */
const RAW_BATCH = 1000;
const IN_FLIGHT = 1000;

interface Run {
  perSec: number;
  ms: number;
  /** This process's CPU time per record (user + system), µs: steadier than wall time on a shared machine. */
  cpuUs: number;
  p50?: number;
  p99?: number;
}

function measure<T>(
  count: number,
  fn: () => Promise<T>,
): Promise<{ result: T; perSec: number; ms: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  return fn().then((result) => {
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { result, ms, perSec: (count / ms) * 1000, cpuUs: (used.user + used.system) / count };
  });
}

function envelopes(count: number): InternalEventV2[] {
  const builder = new SmsEnvelopeBuilder(clockFrom(() => Date.parse('2024-05-01T12:00:00.000Z')));
  const account = 'AC' + '0'.repeat(31) + '1';
  const out: InternalEventV2[] = [];
  for (let n = 0; n < count; n++) {
    out.push(
      builder.inboundFromWebhook({
        MessageSid: 'SM' + n.toString(16).padStart(32, '0'),
        AccountSid: account,
        MessagingServiceSid: 'MG' + '0'.repeat(31) + '2',
        From: `+1415${String(5_000_000 + (n % 10_000)).padStart(7, '0')}`,
        To: '+14155550100',
        Body: `Hi, this is customer ${n % 10_000}. Can you confirm my appointment for tomorrow at 10:30? Thanks!`,
        NumSegments: '1',
        FromCity: 'SAN FRANCISCO',
        FromState: 'CA',
        FromCountry: 'US',
        ToCountry: 'US',
      }),
    );
  }
  return out;
}

/** The baseline: the same records, pre-encoded, sent by a bare idempotent producer in batches, one in flight. */
async function rawProducer(kafka: Kafka, topic: string, messages: Message[]): Promise<Run> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages: messages.slice(0, 10), acks: -1 }); // topic metadata, connections
    const m = await measure(messages.length, async () => {
      for (let i = 0; i < messages.length; i += RAW_BATCH) {
        const batch = messages.slice(i, i + RAW_BATCH);
        await producer.send({ topic, messages: batch, acks: -1, compression: CompressionTypes.None });
      }
    });
    return { perSec: m.perSec, ms: m.ms, cpuUs: m.cpuUs };
  } finally {
    await producer.disconnect();
  }
}

/** EventPublisher (default options) with IN_FLIGHT concurrent callers, each publishing its next envelope once the last is acknowledged. */
async function publisher(kafka: Kafka, topics: TopicNames, events: InternalEventV2[]): Promise<Run> {
  const pub = new EventPublisher({ kafka, topics, publishTimeoutMs: 60_000 });
  await pub.start();
  try {
    await Promise.all(events.slice(0, 10).map((e) => pub.publish(e)));
    const latencies = new Float64Array(events.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < events.length; i = next++) {
        const t0 = performance.now();
        await pub.publish(events[i]!);
        latencies[i] = performance.now() - t0;
      }
    };
    const m = await measure(events.length, () => Promise.all(Array.from({ length: IN_FLIGHT }, worker)));
    latencies.sort();
    return {
      perSec: m.perSec,
      ms: m.ms,
      cpuUs: m.cpuUs,
      p50: latencies[Math.floor(latencies.length * 0.5)]!,
      p99: latencies[Math.floor(latencies.length * 0.99)]!,
    };
  } finally {
    await pub.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function run(): Promise<BenchmarkReport> {
  const count = Number(process.env.BENCH_PUBLISH_COUNT ?? 100_000);
  const broker = await startBenchBroker();
  const { brokers } = broker;
  try {
    const logger = createLogger({ level: 'error' });
    const kafkaConfig = {
      brokers,
      clientId: 'bench-publish',
      groupId: 'bench',
      ssl: false,
      sasl: undefined,
      topics: benchTopics('x'),
    };
    const kafka = createKafka(kafkaConfig, logger);

    const events = envelopes(count);
    const codec = new JsonEnvelopeCodec();
    const messages: Message[] = [];
    for (const e of events) {
      messages.push({
        key: keyFor(e),
        value: await codec.encode(e),
        headers: { ...cloudEventHeaders(e, codec.contentType) },
      });
    }
    const avgBytes = messages.reduce((s, m) => s + (m.value as Buffer).length, 0) / messages.length;

    // Alternate the two after a warm-up of each; keep each one's best round, and each round's ratio.
    const loadBefore = os.loadavg()[0]!;
    const warm = Math.min(10_000, count);
    await rawProducer(kafka, benchTopics('warm').inbound, messages.slice(0, warm));
    await publisher(kafka, benchTopics('warm'), events.slice(0, warm));
    // Plain copies: the publisher has not seen them validated, so it validates each one (callers outside the service).
    const copies = events.map((e) => structuredClone(e));
    const raws: Run[] = [];
    const pubs: Run[] = [];
    const unseen: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raws.push(await rawProducer(kafka, benchTopics(`raw${round}`).inbound, messages));
      pubs.push(await publisher(kafka, benchTopics(`pub${round}`), events));
      unseen.push(await publisher(kafka, benchTopics(`copy${round}`), copies));
    }
    const loadAfter = os.loadavg()[0]!;
    const best = (runs: Run[]) => runs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
    const raw = best(raws);
    const pub = best(pubs);
    const copy = best(unseen);
    const ratio = pub.perSec / raw.perSec;
    const paired = median(pubs.map((p, i) => p.perSec / raws[i]!.perSec));
    const cpuRatio = Math.min(...raws.map((r) => r.cpuUs)) / Math.min(...pubs.map((p) => p.cpuUs));
    const where = broker.label;
    const rounds = (runs: Run[]) => runs.map((r) => fmtInt(r.perSec)).join(', ');
    return {
      targetMet: ratio >= TARGET_RATIO,
      broker: { kind: broker.kind, label: broker.label },
      lines: [
        `${fmtInt(count)} \`sms.inbound.received\` envelopes (JSON ${fmtInt(avgBytes)} bytes each, 7 CloudEvents headers, 10,000 distinct keys) to ${where}.`,
        'Both sides: kafkajs 2.2.4, idempotent producer, acks=all, no compression, one produce request in flight.',
        `EventPublisher: default options (maxBatchRecords 1000, linger 1 ms), ${IN_FLIGHT} publish() calls in flight; each envelope JSON-encoded, given CloudEvents headers and coalesced.`,
        'The envelopes come from SmsEnvelopeBuilder, as in the service: it validates each once (zod, before the clock starts) and freezes it, and the publisher does not validate a frozen, already validated envelope again. The third row publishes plain copies of the same envelopes, which the publisher validates itself (any other caller).',
        `Raw: the same pre-encoded key/value/headers through \`producer.send\` in batches of ${RAW_BATCH}.`,
        `${ROUNDS} alternating rounds after a warm-up; the figures are each side's best round. Load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} cores.`,
        '',
        ...table(
          [
            'sender',
            'records/s (best)',
            'seconds',
            'CPU µs/record (best)',
            'publish p50 ms',
            'publish p99 ms',
            'every round (records/s)',
          ],
          [
            [
              'EventPublisher',
              fmtInt(pub.perSec),
              (pub.ms / 1000).toFixed(2),
              Math.min(...pubs.map((p) => p.cpuUs)).toFixed(1),
              pub.p50!.toFixed(1),
              pub.p99!.toFixed(1),
              rounds(pubs),
            ],
            [
              'EventPublisher, plain copies (validated in publish)',
              fmtInt(copy.perSec),
              (copy.ms / 1000).toFixed(2),
              Math.min(...unseen.map((p) => p.cpuUs)).toFixed(1),
              copy.p50!.toFixed(1),
              copy.p99!.toFixed(1),
              rounds(unseen),
            ],
            [
              'raw kafkajs producer (baseline)',
              fmtInt(raw.perSec),
              (raw.ms / 1000).toFixed(2),
              Math.min(...raws.map((r) => r.cpuUs)).toFixed(1),
              '',
              '',
              rounds(raws),
            ],
          ],
        ),
        '',
        `**EventPublisher / raw producer: ${ratioText(ratio, TARGET_RATIO)}** (best rounds). Median of the per-round ratios: ${paired.toFixed(2)}. CPU per record, raw / EventPublisher: ${cpuRatio.toFixed(2)}. Plain copies / raw producer: ${(copy.perSec / raw.perSec).toFixed(2)}.`,
        '',
      ],
    };
  } finally {
    await broker.stop();
  }
}

registerBenchmark({ name: 'publish', title: 'publish: EventPublisher vs a raw kafkajs producer', run });
