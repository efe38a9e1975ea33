/**
 * Benchmark: signed inbound SMS webhooks through the real service (fastify
 * route, SDK signature check, payload check, envelope, dedup, EventPublisher
 * with coalesced batches, acks=all, idempotent producer) against the bench
 * broker (bench/broker.ts: a local Apache Kafka by default, the mock with
 * BENCH_BROKER=mock, or KAFKA_BROKERS), at increasing offered load, then flat out; in the same run a bare
 * Node `http` server answering 200 to the same POSTs is the ceiling.
 *
 * Layout (2 cores): this process drives autocannon; the service and the bare
 * server each run in their own child process (this file, forked with
 * IE_BENCH_INGRESS_ROLE), and the broker is a third process (a JVM for Apache Kafka). Every
 * request is pre-signed with a unique MessageSid and idempotency token, so
 * none is deduplicated; after each level the records the topic received
 * (sum of high watermarks, which retention does not lower) must cover every
 * 2xx answer.
 *
 *   npm run bench ingress
 *   BENCH_INGRESS_DURATION=20 BENCH_INGRESS_RATES=2000,5000,8000 BENCH_INGRESS_CONNECTIONS=100 npm run bench ingress
 *   BENCH_INGRESS_SERVICE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench ingress   (profile the service)
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { loadConfig } from '../src/config';
import { startTracing } from '../src/telemetry/start-tracing';
import { buildServer } from '../src/server';
import { EMPTY_TWIML, SMS_WEBHOOK_PATH } from '../src/twilio/webhooks';
import { prepareServiceTopics, startBenchBroker } from './broker';
import { forkRole, freeLocalPort, stopChild } from './harness';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const ROLE_ENV = 'IE_BENCH_INGRESS_ROLE';
const ACCOUNT = 'AC' + '7'.repeat(32);
const TOKEN = 'bench-auth-token-0123456789abcdef';
const SENDER = '+14155550100';
/**
 * The public URL Twilio signs, as in production behind a TLS-terminating
 * proxy (docs/webhooks.md). With an explicit port (http://127.0.0.1:PORT) the
 * SDK's validateRequest would first try the URL without it and compute a
 * second HMAC for every webhook.
 */
const PUBLIC_BASE_URL = 'https://sms.bench.example';
const TARGET_RPS = 5000;
const TARGET_P99_MS = 50;
/**
 * Concurrent connections. 50 is what the reference figures used, and about what 5,000 webhooks/s need at
 * ~10 ms each (Little's law); more only adds queueing in front of one event loop.
 */
const CONNECTIONS = Number(process.env.BENCH_INGRESS_CONNECTIONS ?? 50);
/**
 * The service runs with a larger young generation, as recommended for
 * production (docs/webhooks.md): every webhook allocates short-lived strings
 * and objects, and the default 16 MB semi-space makes scavenges frequent
 * enough to show in the p99.
 */
const SERVICE_NODE_FLAGS = [
  '--max-semi-space-size=32',
  ...(process.env.BENCH_INGRESS_SERVICE_FLAGS?.split(' ').filter(Boolean) ?? []),
];

export interface Level {
  label: string;
  /** Offered requests/s; undefined = as fast as the target answers. */
  rate: number | undefined;
  target: 'webhooks' | 'baseline';
}

export interface LevelResult extends Level {
  /** Requests issued (each a distinct webhook), answered or not. */
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** Records the topic received during the level (webhooks only). */
  records?: number;
  /** Server process CPU (all threads, user + system) per 2xx answer, µs. */
  cpuPerRequest?: number;
  /** The service's longest event-loop stall during the level, ms (webhooks only). */
  loopDelayMaxMs?: number;
  /** Share of webhooks the service itself answered within 50 ms (its latency histogram), webhooks only. */
  serverWithinTarget?: number;
}

/** One pre-signed webhook: what Twilio would send for one inbound SMS. */
interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

function signedRequests(from: number, count: number): SignedRequest[] {
  const url = PUBLIC_BASE_URL + SMS_WEBHOOK_PATH;
  const out: SignedRequest[] = new Array<SignedRequest>(count);
  for (let i = 0; i < count; i++) {
    const n = from + i;
    const sid = 'SM' + n.toString(16).padStart(32, '0');
    const customer = `+1415${String(5_000_000 + (n % 10_000)).padStart(7, '0')}`;
    const params: Record<string, string> = {
      ToCountry: 'US',
      ToState: 'CA',
      SmsMessageSid: sid,
      NumMedia: '0',
      ToCity: 'SAN FRANCISCO',
      FromZip: '94105',
      SmsSid: sid,
      FromState: 'CA',
      SmsStatus: 'received',
      FromCity: 'SAN FRANCISCO',
      Body: `Hi, this is customer ${n % 10_000}. Can you confirm my appointment for tomorrow at 10:30? Thanks!`,
      FromCountry: 'US',
      To: SENDER,
      ToZip: '94105',
      NumSegments: '1',
      MessageSid: sid,
      AccountSid: ACCOUNT,
      From: customer,
      ApiVersion: '2010-04-01',
    };
    out[i] = {
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(TOKEN, url, params),
        'i-twilio-idempotency-token': `bench-${n}`,
        'user-agent': 'TwilioProxy/1.1',
      },
    };
  }
  return out;
}

export function serviceEnv(brokers: string, topic: string, port: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    KAFKA_BROKERS: brokers,
    KAFKA_CLIENT_ID: 'bench-ingress',
    KAFKA_TOPIC_INBOUND: topic,
    KAFKA_TOPIC_STATUS: `${topic}-status`,
    KAFKA_TOPIC_CONSENT: `${topic}-consent`,
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_WEBHOOK_BASE_URL: PUBLIC_BASE_URL,
  };
}

/** Forks this file in a role; resolves once the child listens. */
export function startChild(role: 'webhooks' | 'baseline', env: Record<string, string>): Promise<ChildProcess> {
  return forkRole(__filename, ROLE_ENV, role, env, role === 'webhooks' ? SERVICE_NODE_FLAGS : []);
}

/** Waits for /readyz: the publisher connected and the connector's foundations (consent, ledger) loaded. */
export async function untilReady(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the service did not become ready');
}

/**
 * The service's own view of latency (twilio_webhook_latency_seconds): how
 * many webhooks it answered, and how many within the p99 target. Separates
 * the service from the load generator, which shares the two cores.
 */
async function latencyBuckets(baseUrl: string): Promise<{ total: number; within: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const route = `route="${SMS_WEBHOOK_PATH}"`;
  let total = 0;
  let within = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('twilio_webhook_latency_seconds_bucket') || !line.includes(route)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.includes(`le="${TARGET_P99_MS / 1000}"`)) within = value;
    if (line.includes('le="+Inf"')) total = value;
  }
  return { total, within };
}

async function topicRecords(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The topic's count once it stops moving: autocannon stops at its deadline
 * without waiting for requests still in flight, whose records land just after.
 */
export async function settledRecords(kafka: Kafka, topic: string): Promise<number> {
  let last = await topicRecords(kafka, topic);
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await topicRecords(kafka, topic);
    if (now === last) return now;
    last = now;
  }
  return last;
}

async function drive(
  url: string,
  pool: SignedRequest[],
  durationSec: number,
  rate: number | undefined,
  wrap: boolean,
  connections: number,
): Promise<{ result: autocannon.Result; issued: number }> {
  let next = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSec,
    ...(rate !== undefined ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (req) => {
          // The service gets unique requests only: a repeat would be answered 200 without a new record.
          if (next >= pool.length && wrap) next = 0;
          const r = pool[next++];
          if (!r) throw new Error('the pre-signed pool ran out; raise its size');
          return { ...req, method: 'POST', path: SMS_WEBHOOK_PATH, headers: r.headers, body: r.body };
        },
      },
    ],
  });
  return { result, issued: next };
}

/** One level of load against the service (fresh webhooks) or the bare server (a cycled pool). */
export async function runLevel(
  level: Level,
  url: string,
  durationSec: number,
  poolStart: number,
  connections = CONNECTIONS,
): Promise<{ result: LevelResult; used: number }> {
  // The bare server cannot tell repeats apart, so it cycles through a small pool; the service gets a
  // fresh request every time, enough for a flat-out rate well above what it reaches here.
  const baseline = level.target === 'baseline';
  const size = baseline ? 20_000 : Math.ceil((level.rate ?? 25_000) * durationSec * 1.2) + 1000;
  const pool = signedRequests(poolStart, size);
  const { result: r, issued } = await drive(url, pool, durationSec, level.rate, baseline, connections);
  return {
    used: size,
    result: {
      ...level,
      sent: issued,
      ok: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      rps: r['2xx'] / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
    },
  };
}

async function run(): Promise<BenchmarkReport> {
  const durationSec = Number(process.env.BENCH_INGRESS_DURATION ?? 10);
  const rates = (process.env.BENCH_INGRESS_RATES ?? '1000,2500,5000,7500,10000').split(',').map(Number);
  const broker = await startBenchBroker();
  const kafka = new Kafka({ clientId: 'bench-ingress-count', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const topic = `bench-ingress-${Date.now().toString(36)}`;
  const children: ChildProcess[] = [];
  try {
    const port = await freeLocalPort();
    const env = serviceEnv(broker.bootstrap, topic, port);
    const service = await startChild('webhooks', { ...env, ...(await prepareServiceTopics(broker, env)) });
    children.push(service);
    const baseUrl = `http://127.0.0.1:${port}`;
    const bare = await startChild('baseline', {});
    children.push(bare);
    const barePort = await new Promise<number>((resolve) => {
      bare.send('port');
      bare.once('message', (m) => resolve(Number(m)));
    });

    await untilReady(baseUrl);
    // Warm-up: connections, JIT, topic metadata; not reported.
    let poolStart = 0;
    poolStart += (await runLevel({ label: 'warm-up', rate: 2500, target: 'webhooks' }, baseUrl, 5, poolStart)).used;

    const levels: Level[] = [
      ...rates.map((rate): Level => ({ label: `${fmtInt(rate)}/s offered`, rate, target: 'webhooks' })),
      { label: 'flat out', rate: undefined, target: 'webhooks' },
      { label: 'bare http, flat out', rate: undefined, target: 'baseline' },
    ];
    const results: LevelResult[] = [];
    for (const level of levels) {
      const url = level.target === 'webhooks' ? baseUrl : `http://127.0.0.1:${barePort}`;
      const server = level.target === 'webhooks' ? service : bare;
      const cpuBefore = await childCpu(server);
      if (level.target === 'webhooks') await loopDelayMax(server); // resets the service's monitor
      const histBefore = level.target === 'webhooks' ? await latencyBuckets(baseUrl) : undefined;
      const before = level.target === 'webhooks' ? await settledRecords(kafka, topic) : 0;
      const { result, used } = await runLevel(level, url, durationSec, poolStart);
      poolStart += used;
      result.cpuPerRequest = ((await childCpu(server)) - cpuBefore) / Math.max(result.ok, 1);
      if (level.target === 'webhooks') result.loopDelayMaxMs = await loopDelayMax(server);
      if (histBefore) {
        const after = await latencyBuckets(baseUrl);
        const total = after.total - histBefore.total;
        result.serverWithinTarget = total > 0 ? (after.within - histBefore.within) / total : 0;
      }
      if (level.target === 'webhooks') result.records = (await settledRecords(kafka, topic)) - before;
      results.push(result);
      console.log(
        `${level.label}: ${fmtInt(result.rps)} 2xx/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ` +
          `non-2xx ${result.non2xx}, errors ${result.errors}, server CPU ${fmtInt(result.cpuPerRequest)} µs/request` +
          (result.loopDelayMaxMs !== undefined ? `, loop stall max ${result.loopDelayMaxMs.toFixed(0)} ms` : '') +
          (result.records !== undefined ? `, records ${result.records}` : ''),
      );
    }

    const webhookLevels = results.filter((r) => r.target === 'webhooks');
    const flat = webhookLevels.find((r) => r.rate === undefined)!;
    const ceiling = results.find((r) => r.target === 'baseline')!;
    const allOnKafka = webhookLevels.every((r) => (r.records ?? 0) >= r.ok && (r.records ?? 0) <= r.sent);
    // Sustained: a fixed offered rate fully answered 2xx (within 2 %) with p99 within the target.
    const sustained = webhookLevels
      .filter((r) => r.rate !== undefined && r.non2xx === 0 && r.errors === 0 && r.rps >= r.rate * 0.98)
      .filter((r) => r.p99 <= TARGET_P99_MS)
      .reduce((best, r) => Math.max(best, r.rate ?? 0), 0);
    const targetMet = sustained >= TARGET_RPS && allOnKafka;
    const bestWithinP99 = webhookLevels
      .filter((r) => r.p99 <= TARGET_P99_MS && r.non2xx === 0 && r.errors === 0)
      .reduce((best, r) => Math.max(best, r.rps), 0);
    const cpuRates = webhookLevels.filter((r) => r.rate !== undefined).map((r) => r.cpuPerRequest ?? 0);
    const serviceCpu = cpuRates.sort((a, b) => a - b)[Math.floor(cpuRates.length / 2)] ?? 0;

    const lines = [
      `Signed inbound webhooks (\`POST ${SMS_WEBHOOK_PATH}\`, ~600-byte form bodies, each with its own MessageSid, signed`,
      `for the public URL ${PUBLIC_BASE_URL} as behind a TLS-terminating proxy: one HMAC per webhook) against`,
      `the whole service in its own process with ${broker.label}; autocannon with`,
      `${CONNECTIONS} connections, ${durationSec} s per level, latencies corrected for coordinated omission at fixed rates.`,
      '',
      ...table(
        [
          'load',
          '2xx/s',
          'p50 ms',
          'p99 ms',
          `answered ≤ ${TARGET_P99_MS} ms (server side)`,
          'non-2xx',
          'errors',
          'server CPU µs/request',
          'service event-loop stall max ms',
          '2xx answered',
          'records on Kafka',
        ],
        results.map((r) => [
          r.label,
          fmtInt(r.rps),
          r.p50,
          r.p99,
          r.serverWithinTarget === undefined ? '–' : `${(r.serverWithinTarget * 100).toFixed(2)} %`,
          r.non2xx,
          r.errors,
          fmtInt(r.cpuPerRequest ?? 0),
          r.loopDelayMaxMs === undefined ? '–' : r.loopDelayMaxMs.toFixed(0),
          fmtInt(r.ok),
          r.records === undefined ? '–' : fmtInt(r.records),
        ]),
      ),
      '',
      `- Highest offered rate sustained with every answer 2xx and p99 ≤ ${TARGET_P99_MS} ms: **${fmtInt(sustained)}/s** ` +
        `(target ≥ ${fmtInt(TARGET_RPS)}/s: ${sustained >= TARGET_RPS ? 'met' : 'NOT met'}); ` +
        `most 2xx/s at any level with p99 ≤ ${TARGET_P99_MS} ms: ${fmtInt(bestWithinP99)}/s.`,
      `- Flat out: ${fmtInt(flat.rps)} webhooks/s vs ${fmtInt(ceiling.rps)}/s for the bare \`http\` server: ` +
        `ratio **${(flat.rps / ceiling.rps).toFixed(3)}** (the ceiling of this machine; the service signs-checks, ` +
        'validates, builds an envelope and waits for Kafka on every request).',
      `- Server CPU per request (all threads, user + system): ${fmtInt(serviceCpu)} µs for the service (median of the ` +
        `fixed-rate levels) vs ${fmtInt(ceiling.cpuPerRequest ?? 0)} µs for the bare server: one event loop tops out ` +
        `near ${fmtInt(1e6 / Math.max(serviceCpu, 1))} webhooks/s, and on 2 cores it shares the machine with autocannon ` +
        'and the broker.',
      `- Every 2xx on Kafka: ${allOnKafka ? 'yes' : 'NO'} (records counted by high watermark after each level).`,
      `- p99 is autocannon's (client side); "answered ≤ ${TARGET_P99_MS} ms" is the service's own histogram (from the ` +
        'request handler to the reply, so not the time a request waits in the socket). A fixed rate in autocannon is ' +
        "bursty: each connection sends its quota for the second back to back, then waits for the next second's tick, so " +
        `every level has up to ${CONNECTIONS} requests in flight at once. ` +
        'Its coordinated-omission correction assumes 1 ms ' +
        'between requests, so one answer that took N ms adds N synthetic samples: in a 1,000/s level (10,000 samples) ' +
        'a single 130 ms outlier sets the p99, which is why it can read higher than at 5,000/s while the service ' +
        "answered nearly all of its requests within the target (the server-side column). The event-loop stall column is the service's longest " +
        'pause in the level (GC, a long task): a stall of N ms delays every request in flight by up to N ms.',
    ];
    return { lines, targetMet, broker: { kind: broker.kind, label: broker.label } };
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await broker.stop();
  }
}

/** The service's longest event-loop delay since the last call, ms; the call resets it. */
function loopDelayMax(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(Number(m)));
    child.send('loop-delay');
  });
}

/** CPU time of this process (all threads, user + system), in µs, as a string for IPC. */
function cpuMicros(): string {
  const u = process.cpuUsage();
  return String(u.user + u.system);
}

/** Asks a target child for its CPU time so far. */
function childCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(Number(m)));
    child.send('cpu');
  });
}

/** The service, as deployed, in this child process. */
async function serveWebhooks(): Promise<void> {
  // As src/main.ts does: off unless the OTEL_* variables ask for it (the tracing benchmark sets them).
  const tracing = startTracing(process.env);
  const config = loadConfig(process.env);
  const server = buildServer(config);
  await server.start();
  await server.listen();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  process.on('message', (m) => {
    if (m === 'cpu') process.send?.(cpuMicros());
    if (m === 'loop-delay') {
      process.send?.(String(loopDelay.max / 1e6));
      loopDelay.reset();
    }
    if (m === 'stop')
      void server
        .stop()
        .then(() => tracing?.shutdown())
        .finally(() => process.exit(0));
  });
  process.send?.('ready');
}

/** The ceiling: a bare Node http server that reads the body and answers 200 with the same TwiML. */
function serveBaseline(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(EMPTY_TWIML);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    process.on('message', (m) => {
      if (m === 'port') process.send?.(String((server.address() as AddressInfo).port));
      if (m === 'cpu') process.send?.(cpuMicros());
      if (m === 'stop') server.close(() => process.exit(0));
    });
    process.send?.('ready');
  });
}

const role = process.env[ROLE_ENV];
if (role === 'webhooks') {
  serveWebhooks().catch((err: unknown) => {
    console.error('ingress bench target failed:', err);
    process.exit(1);
  });
} else if (role === 'baseline') {
  serveBaseline();
} else {
  registerBenchmark({ name: 'ingress', title: 'Ingress: signed inbound webhooks to Kafka', run });
}
