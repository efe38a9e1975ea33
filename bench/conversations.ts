/**
 * Benchmark: Conversations ingress latency, `messageAdded` → Kafka
 * acknowledged, at a steady 200 messages/s through the simulator's socket.
 *
 * The real, pinned @twilio/conversations SDK is connected to the
 * Conversations simulator; TwilioSmsIngressClient publishes through the
 * service's EventPublisher (idempotent producer, acks=all, coalesced batches)
 * to the bench broker (bench/broker.ts: local Apache Kafka by default, the
 * mock with BENCH_BROKER=mock). Messages are added on a fixed schedule (not as
 * fast as possible) round-robin over 20 conversations, as SMS would arrive.
 * The simulator runs in a child process (this file, forked with
 * IE_BENCH_CONVERSATIONS_ROLE=simulator), as Twilio is remote; the SDK, the
 * client and the publisher share this process, as in the service.
 * Three latencies per message:
 * - SDK `messageAdded` → publish() resolved (Kafka acknowledged): the target;
 * - simulator add → acknowledged: the same plus the socket hop and the SDK;
 * - baseline, same run: the same envelopes published straight to
 *   EventPublisher at the same rate (publish() → acknowledged), i.e. what
 *   Kafka alone costs.
 * Afterwards the topic must hold exactly one record per message.
 *
 *   npm run bench conversations
 *   BENCH_CONVERSATIONS_RATE=200 BENCH_CONVERSATIONS_SECONDS=10 BENCH_CONVERSATIONS_ROUNDS=3 npm run bench conversations
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { TopicNames } from '../src/config';
import { SmsEnvelopeBuilder, type InternalEventV2 } from '../src/envelope';
import { createKafka, EventPublisher } from '../src/kafka';
import type { EventPublisherPort } from '../src/connector/event-publisher-port';
import { createLogger, createMetrics } from '../src/observability';
import { ConversationsSimulator } from '@ingress-egress/twilio-simulator';
import { createAccessTokenProvider } from '../src/twilio/conversations/access-token-provider';
import type { ConversationsAdapter, SessionListener } from '../src/twilio/conversations/conversations-adapter';
import { SdkConversationsAdapter } from '../src/twilio/conversations/sdk-conversations-adapter';
import { TwilioSmsIngressClient } from '../src/twilio/conversations/twilio-sms-ingress-client';
import { startBenchBroker } from './broker';
import { benchTopics } from './topics';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const RATE = Number(process.env.BENCH_CONVERSATIONS_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_CONVERSATIONS_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_CONVERSATIONS_ROUNDS ?? 3);
const WARMUP_SECONDS = 5;
const CONVERSATIONS = 20;
const TARGET_P99_MS = 20;
const ACCOUNT = 'AC' + '8'.repeat(32);
const KEY_SID = 'SK' + '9'.repeat(32);
const KEY_SECRET = 'bench-conversations-key-secret';
const SERVICE = 'IS' + 'a'.repeat(32);
const IDENTITY = 'ingress-egress';

const ROLE_ENV = 'IE_BENCH_CONVERSATIONS_ROLE';
/** Wall-clock milliseconds with sub-millisecond resolution: comparable between this process and the simulator's. */
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const customer = (i: number) => `+1415555${String(1000 + i).padStart(4, '0')}`;

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.at(-1) ?? NaN };
}

const ms = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2));

/** Records when the SDK hands each message over, before the client sees it. */
class TimingAdapter implements ConversationsAdapter {
  constructor(
    private readonly inner: ConversationsAdapter,
    private readonly seen: Map<string, number>,
  ) {}

  connect(token: string, listener: SessionListener) {
    return this.inner.connect(token, {
      ...listener,
      messageAdded: (m) => {
        if (!this.seen.has(m.messageSid)) this.seen.set(m.messageSid, now());
        listener.messageAdded(m);
      },
    });
  }
}

/** Records when Kafka acknowledged each Conversations message. */
function timingPublisher(inner: EventPublisherPort, acked: Map<string, number>): EventPublisherPort {
  return {
    isReady: () => inner.isReady(),
    publishRaw: (r) => inner.publishRaw(r),
    publish: async (e: InternalEventV2) => {
      const r = await inner.publish(e);
      if (e.type === 'sms.inbound.received') acked.set(e.data.messageSid, now());
      return r;
    },
  };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Calls `fn(i)` for i = 0…count-1 at `rate` per second on a fixed schedule (late calls catch up, none are dropped). */
async function paced(count: number, rate: number, fn: (i: number) => void): Promise<void> {
  const start = now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    fn(i);
  }
}

async function highWatermarks(kafkaBrokers: string[], topic: string): Promise<number> {
  const admin = createKafka(
    {
      brokers: kafkaBrokers,
      clientId: 'bench-count',
      groupId: 'bench',
      ssl: false,
      sasl: undefined,
      topics: benchTopics('count'),
    },
    createLogger({ level: 'silent' }),
  ).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** What the simulator process reports for each message it added. */
interface AddedMessage {
  sid: string;
  conversationSid: string;
  index: number;
  author: string;
  body: string | null;
  attributes: string;
  participantSid: string | null;
  dateCreated: string;
  at: number;
}

type ToSimulator = { type: 'load'; count: number; rate: number; from: number };
type FromSimulator =
  { type: 'ready'; socketUrl: string; conversations: string[] } | { type: 'done'; added: AddedMessage[] };

/** The child process: the Conversations simulator, adding messages on the schedule it is given. */
async function simulatorRole(): Promise<void> {
  const sim = new ConversationsSimulator({
    accountSid: ACCOUNT,
    serviceSid: SERVICE,
    apiKeys: { [KEY_SID]: KEY_SECRET },
    tokenTimers: false,
  });
  await sim.start();
  const conversations = Array.from({ length: CONVERSATIONS }, (_, i) => {
    const c = sim.createConversation({ friendlyName: `bench ${i}` });
    sim.addSmsParticipant(c.sid, customer(i));
    sim.joinIdentity(c.sid, IDENTITY);
    return c;
  });
  const send = (m: FromSimulator) => process.send?.(m);
  process.on('message', (msg: ToSimulator) => {
    if (msg.type !== 'load') return;
    const added: AddedMessage[] = [];
    void paced(msg.count, msg.rate, (k) => {
      const i = msg.from + k;
      const conv = conversations[i % CONVERSATIONS]!;
      const m = sim.addMessage(
        conv.sid,
        customer(i % CONVERSATIONS),
        `Hi, this is message ${i}. Can you confirm my appointment for tomorrow at 10:30? Thanks!`,
      );
      added.push({ ...m, conversationSid: conv.sid, at: now() });
    }).then(() => send({ type: 'done', added }));
  });
  process.on('disconnect', () => void sim.stop().finally(() => process.exit(0)));
  send({ type: 'ready', socketUrl: sim.socketUrl, conversations: conversations.map((c) => c.sid) });
}

function startSimulator(): Promise<{ child: ChildProcess; socketUrl: string; conversations: string[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { env: { ...process.env, [ROLE_ENV]: 'simulator' }, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`simulator exited with code ${code}`)));
    child.once('message', (m: FromSimulator) => {
      if (m.type === 'ready') resolve({ child, socketUrl: m.socketUrl, conversations: m.conversations });
    });
  });
}

function load(child: ChildProcess, count: number, from: number): Promise<AddedMessage[]> {
  return new Promise((resolve) => {
    const onMessage = (m: FromSimulator) => {
      if (m.type !== 'done') return;
      child.off('message', onMessage);
      resolve(m.added);
    };
    child.on('message', onMessage);
    child.send({ type: 'load', count, rate: RATE, from } satisfies ToSimulator);
  });
}

async function run(): Promise<BenchmarkReport> {
  const broker = await startBenchBroker();
  const { brokers } = broker;
  const logger = createLogger({ level: 'error' });
  const topics = benchTopics('conv');
  const baselineTopics = benchTopics('conv-base');
  const kafkaConfig = (t: TopicNames) => ({
    brokers,
    clientId: 'bench-conversations',
    groupId: 'bench',
    ssl: false,
    sasl: undefined,
    topics: t,
  });
  const publisher = new EventPublisher({ kafka: createKafka(kafkaConfig(topics), logger), topics, logger });
  const baseline = new EventPublisher({
    kafka: createKafka(kafkaConfig(baselineTopics), logger),
    topics: baselineTopics,
    logger,
  });
  const seen = new Map<string, number>();
  const acked = new Map<string, number>();
  let client: TwilioSmsIngressClient | undefined;
  let simulator: ChildProcess | undefined;
  const loadBefore = os.loadavg()[0]!;
  try {
    const sim = await startSimulator();
    simulator = sim.child;
    await publisher.start();
    await baseline.start();
    client = new TwilioSmsIngressClient({
      adapter: new TimingAdapter(new SdkConversationsAdapter({ socketUrl: sim.socketUrl }), seen),
      tokens: createAccessTokenProvider({
        accountSid: ACCOUNT,
        apiKeySid: KEY_SID,
        apiKeySecret: KEY_SECRET,
        serviceSid: SERVICE,
        identity: IDENTITY,
        ttlSecs: 3600,
      }),
      publisher: timingPublisher(publisher, acked),
      accountSid: ACCOUNT,
      serviceSid: SERVICE,
      identity: IDENTITY,
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    await client.start();
    await until(() => Object.keys(client!.checkpoints()).length === CONVERSATIONS, 30_000, 'every conversation joined');
    await client.settled();

    const warmup = WARMUP_SECONDS * RATE;
    const perRound = SECONDS * RATE;
    await load(sim.child, warmup, 0);
    await until(() => acked.size >= warmup, 30_000, 'warm-up acknowledged');

    // Alternating rounds (ingress, then the same envelopes published directly):
    // other work on a shared machine hits both sides alike, and one noisy
    // round does not decide the result.
    const builder = new SmsEnvelopeBuilder();
    const rounds: {
      event: Stats;
      end: Stats;
      hop: Stats;
      base: Stats;
      cpu: number;
      loopP99: number;
      loopMax: number;
      gcMax: number;
      gcTotal: number;
      heapMb: number;
    }[] = [];
    const all = { event: [] as number[], end: [] as number[], hop: [] as number[], base: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const expected = warmup + (r + 1) * perRound;
      const cpuBefore = process.cpuUsage();
      const started = now();
      // Where a slow message's time went: this process's event loop stalls and GC pauses.
      const loop = monitorEventLoopDelay({ resolution: 5 });
      const gcPauses: number[] = [];
      const gc = new PerformanceObserver((list) => gcPauses.push(...list.getEntries().map((e) => e.duration)));
      loop.enable();
      gc.observe({ entryTypes: ['gc'] });
      const added = await load(sim.child, perRound, warmup + r * perRound);
      await until(() => acked.size >= expected, 60_000, 'every message acknowledged');
      loop.disable();
      gc.disconnect();
      const cpu = process.cpuUsage(cpuBefore);
      const cpuShare = (cpu.user + cpu.system) / 1000 / (now() - started);
      const event = added.map((m) => acked.get(m.sid)! - seen.get(m.sid)!);
      const end = added.map((m) => acked.get(m.sid)! - m.at);
      const hop = added.map((m) => seen.get(m.sid)! - m.at);
      const envelopes = added.map((m) =>
        builder.inboundFromConversation({
          accountSid: ACCOUNT,
          conversationSid: m.conversationSid,
          messageSid: m.sid,
          index: m.index,
          author: m.author,
          body: m.body,
          dateCreated: new Date(m.dateCreated),
          attributes: m.attributes,
          ...(m.participantSid ? { participantSid: m.participantSid } : {}),
        }),
      );
      const base: number[] = [];
      const inflight: Promise<unknown>[] = [];
      await paced(envelopes.length, RATE, (i) => {
        const t0 = now();
        inflight.push(baseline.publish(envelopes[i]!).then(() => base.push(now() - t0)));
      });
      await Promise.all(inflight);
      rounds.push({
        event: stats(event),
        end: stats(end),
        hop: stats(hop),
        base: stats(base),
        cpu: cpuShare,
        loopP99: loop.percentile(99) / 1e6,
        loopMax: loop.max / 1e6,
        gcMax: Math.max(0, ...gcPauses),
        gcTotal: gcPauses.reduce((a, b) => a + b, 0),
        heapMb: process.memoryUsage().heapUsed / 1024 ** 2,
      });
      all.event.push(...event);
      all.end.push(...end);
      all.hop.push(...hop);
      all.base.push(...base);
    }
    await client.stop();

    const total = warmup + ROUNDS * perRound;
    const records = await highWatermarks(brokers, topics.inbound);
    const exact = records === total && acked.size === total;
    const byP99 = [...rounds].sort((a, b) => a.event.p99 - b.event.p99);
    const median = byP99[Math.floor(byP99.length / 2)]!;
    const met = median.event.p99 < TARGET_P99_MS && exact;
    const loadAfter = os.loadavg()[0]!;
    const pooled = { event: stats(all.event), end: stats(all.end), hop: stats(all.hop), base: stats(all.base) };
    const lines = [
      `${ROUNDS} rounds of ${fmtInt(perRound)} messages at ${RATE}/s (${SECONDS} s each, after ${WARMUP_SECONDS} s of warm-up), round-robin over ${CONVERSATIONS}`,
      'conversations, added in the Conversations simulator (its own process) and delivered to the real @twilio/conversations 3.0.1',
      'SDK over its socket; TwilioSmsIngressClient builds each envelope and publishes it through EventPublisher (kafkajs 2.2.4,',
      `idempotent, acks=all, default batching) to ${broker.label}, checkpointing each conversation at most once a second.`,
      'Baseline, same process, after each round: the same envelopes published straight to EventPublisher at the same rate.',
      'Latencies in ms; the table pools every round.',
      '',
      ...table(
        ['path', 'messages', 'p50', 'p95', 'p99', 'max'],
        [
          row('SDK messageAdded → Kafka acknowledged (target)', pooled.event),
          row('simulator add → Kafka acknowledged (end to end)', pooled.end),
          row('simulator add → SDK messageAdded (socket + SDK)', pooled.hop),
          row('EventPublisher.publish → acknowledged (baseline)', pooled.base),
        ],
      ),
      '',
      `**messageAdded → Kafka acknowledged p99: ${ms(median.event.p99)} ms in the median round (target < ${TARGET_P99_MS} ms: ${median.event.p99 < TARGET_P99_MS ? 'met' : 'NOT met'})**; ` +
        `that round's baseline p99 ${ms(median.base.p99)} ms (ratio ${(median.event.p99 / median.base.p99).toFixed(2)}), p50 ratio ${(median.event.p50 / median.base.p50).toFixed(2)}. ` +
        `Every round's p99 (ingress / baseline): ${rounds.map((r) => `${ms(r.event.p99)} / ${ms(r.base.p99)}`).join(', ')}.`,
      `Client process per round: event-loop delay p99 / max ${rounds.map((r) => `${ms(r.loopP99)} / ${ms(r.loopMax)}`).join(', ')} ms; ` +
        `longest GC pause ${rounds.map((r) => ms(r.gcMax)).join(', ')} ms (GC total ${rounds.map((r) => ms(r.gcTotal)).join(', ')} ms); ` +
        `heap after each round ${rounds.map((r) => r.heapMb.toFixed(0)).join(', ')} MB (the SDK keeps every message of the session).`,
      `Topic records: ${fmtInt(records)} for ${fmtInt(total)} messages (${exact ? 'each exactly once' : 'MISMATCH'}). ` +
        `CPU of the client process under load: ${rounds.map((r) => `${(r.cpu * 100).toFixed(0)}%`).join(', ')} of one core. ` +
        `Load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} cores.`,
      '',
    ];
    return { lines, targetMet: met, broker: { kind: broker.kind, label: broker.label } };
  } finally {
    await client?.stop().catch(() => undefined);
    await publisher.stop().catch(() => undefined);
    await baseline.stop().catch(() => undefined);
    simulator?.removeAllListeners('exit');
    simulator?.disconnect();
    await broker.stop();
  }
}

function row(label: string, s: Stats): string[] {
  return [label, fmtInt(s.n), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];
}

if (process.env[ROLE_ENV] === 'simulator') {
  void simulatorRole();
} else {
  registerBenchmark({
    name: 'conversations',
    title: 'Conversations: messageAdded → Kafka acknowledged at 200 messages/s',
    run,
  });
}
