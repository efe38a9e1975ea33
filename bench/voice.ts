/**
 * Benchmark: the incoming-call webhook (`POST /webhooks/twilio/voice`, signed, routing TwiML from a routing file,
 * voice.call.received through the fsync'd outbox) at 100 concurrent calls, with Kafka up and with Kafka stopped,
 * beside a bare Node `http` server answering the same TwiML in the same run. After the outage every answered call
 * must be on Kafka once the broker is back.
 *
 *   npm run bench voice
 *   BENCH_VOICE_DURATION=20 BENCH_VOICE_RATE=300 npm run bench voice   (default 10 s, 100 calls/s)
 *
 * Layout: this process drives autocannon; the service and the bare server run in child processes (this file forked
 * with IE_BENCH_VOICE_ROLE); Apache Kafka from scripts/kafka.sh, which this benchmark stops and starts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { loadConfig } from '../src/config';
import { buildServer } from '../src/server';
import { kafkaSh, REPO_ROOT } from '../scripts/kafka-sh';
import { forkRole, freeLocalPort, stopChild, waitUntil } from './harness';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const ROLE_ENV = 'IE_BENCH_VOICE_ROLE';
const ACCOUNT = 'AC' + '9'.repeat(32);
const TOKEN = 'bench-voice-token-0123456789abcdef';
const CALLED = '+14155550100';
const PUBLIC_BASE_URL = 'https://voice.bench.example';
const PATH = '/webhooks/twilio/voice';
const CONNECTIONS = 100;
const TARGET_P99_MS = 100;

function signedCalls(from: number, count: number): { body: string; headers: Record<string, string> }[] {
  const url = PUBLIC_BASE_URL + PATH;
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const params: Record<string, string> = {
      CallSid: 'CA' + n.toString(16).padStart(32, '0'),
      AccountSid: ACCOUNT,
      From: `+1415${String(5_000_000 + (n % 10_000)).padStart(7, '0')}`,
      To: CALLED,
      Caller: `+1415${String(5_000_000 + (n % 10_000)).padStart(7, '0')}`,
      Called: CALLED,
      CallStatus: 'ringing',
      Direction: 'inbound',
      ApiVersion: '2010-04-01',
      FromCountry: 'US',
      FromState: 'CA',
      FromCity: 'SAN FRANCISCO',
      StirVerstat: 'TN-Validation-Passed-A',
    };
    return {
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(TOKEN, url, params),
      },
    };
  });
}

function startChild(role: 'service' | 'baseline', env: Record<string, string>): Promise<ChildProcess> {
  return forkRole(__filename, ROLE_ENV, role, env, role === 'service' ? ['--max-semi-space-size=32'] : []);
}

async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

async function records(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

interface Row {
  label: string;
  ok: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

async function drive(label: string, url: string, pool: ReturnType<typeof signedCalls>, seconds: number, rate?: number) {
  let next = 0;
  const r = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    ...(rate !== undefined ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const c = pool[next++ % pool.length]!;
          return { ...req, method: 'POST', path: PATH, headers: c.headers, body: c.body };
        },
      },
    ],
  });
  const row: Row = {
    label,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    rps: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
  console.log(`${label}: ${fmtInt(row.rps)} 2xx/s, p50 ${row.p50} ms, p99 ${row.p99} ms, non-2xx ${row.non2xx}`);
  return { row, issued: next };
}

async function run(): Promise<BenchmarkReport> {
  const seconds = Number(process.env.BENCH_VOICE_DURATION ?? 10);
  const rate = Number(process.env.BENCH_VOICE_RATE ?? 100);
  mkdirSync(path.join(REPO_ROOT, 'build', 'kafka'), { recursive: true });
  const dir = mkdtempSync(path.join(REPO_ROOT, 'build', 'kafka', 'bench-voice-'));
  const bootstrap = (await kafkaSh(['start', '--brokers', '1', '--dir', dir, '--watch', String(process.pid)]))
    .split('\n')
    .pop()!
    .trim();
  const kafka = new Kafka({ clientId: 'bench-voice', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
  const work = mkdtempSync(path.join(REPO_ROOT, 'build', 'bench-voice-'));
  const routing = path.join(work, 'routing.yaml');
  writeFileSync(
    routing,
    `numbers:\n  "${CALLED}": { action: forward, to: "+14155550199", record: true, voicemailWhenUnanswered: { transcribe: true } }\ndefault: { action: voicemail }\n`,
  );
  const suffix = Date.now().toString(36);
  const voiceTopic = `bench-voice-calls-${suffix}`;
  const port = await freeLocalPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const children: ChildProcess[] = [];
  try {
    const service = await startChild('service', {
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      KAFKA_BROKERS: bootstrap,
      KAFKA_CREATE_TOPICS: 'true',
      KAFKA_CLIENT_ID: 'bench-voice-service',
      KAFKA_GROUP_ID: `bench-voice-${suffix}`,
      ...Object.fromEntries(
        ['INBOUND', 'STATUS', 'CONSENT', 'EGRESS', 'OUTCOMES', 'EGRESS_DLQ', 'EGRESS_LEDGER', 'VOICE_RECORDINGS'].map(
          (t) => [`KAFKA_TOPIC_${t}`, `bench-voice-${t.toLowerCase().replace(/_/g, '-')}-${suffix}`],
        ),
      ),
      KAFKA_TOPIC_VOICE_CALLS: voiceTopic,
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_WEBHOOK_BASE_URL: PUBLIC_BASE_URL,
      VOICE_ROUTING_FILE: routing,
      VOICE_RECORDING_NOTICE: 'This call may be recorded.',
      // On the repository's disk (not tmpfs): the fsync is real.
      VOICE_OUTBOX_DIR: path.join(work, 'outbox'),
    });
    children.push(service);
    const bare = await startChild('baseline', {});
    children.push(bare);
    const barePort = await new Promise<number>((resolve) => {
      bare.send('port');
      bare.once('message', (m) => resolve(Number(m)));
    });
    await waitUntil('the service to be ready', async () => (await fetch(`${baseUrl}/readyz`)).ok);

    let n = 0;
    const pool = (count: number) => {
      const p = signedCalls(n, count);
      n += count;
      return p;
    };
    const size = Math.max(rate, 3000) * seconds * 2;
    // A row cycles through its pool when it sends more requests than the pool holds; a repeated CallSid is the
    // same call (published once), so the calls that must be on Kafka are the distinct ones: at most the pool's size.
    const distinct = (row: Row, poolSize: number) => Math.min(row.ok, poolSize);
    const warmUp = (await drive('warm-up', baseUrl, pool(5000), 3, 200)).row;
    const rows: Row[] = [];
    let answered = distinct(warmUp, 5000);
    rows.push((await drive('bare http, flat out', `http://127.0.0.1:${barePort}`, pool(20_000), seconds)).row);
    for (const [label, r] of [
      [`Kafka up, ${rate} calls/s`, rate],
      ['Kafka up, flat out', undefined],
    ] as const) {
      const { row } = await drive(label, baseUrl, pool(size), seconds, r);
      rows.push(row);
      answered += distinct(row, size);
    }

    await kafkaSh(['node', 'stop', '1', '--dir', dir]);
    // Stopped, whether or not the service has noticed yet: its next publish finds out.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const [label, r] of [
      [`Kafka down, ${rate} calls/s`, rate],
      ['Kafka down, flat out', undefined],
    ] as const) {
      const { row } = await drive(label, baseUrl, pool(size), seconds, r);
      rows.push(row);
      answered += distinct(row, size);
    }
    const pendingAtRestart = await metric(baseUrl, 'voice_outbox_pending');
    const t0 = Date.now();
    await kafkaSh(['node', 'start', '1', '--dir', dir]);
    await waitUntil('the outbox to drain', async () => (await metric(baseUrl, 'voice_outbox_pending')) === 0, 300_000);
    const drainSecs = (Date.now() - t0) / 1000;
    const onKafka = await records(kafka, voiceTopic);

    const baseline = rows[0]!;
    const serviceRows = rows.slice(1);
    const allAnswered = serviceRows.every((r) => r.non2xx === 0 && r.errors === 0);
    const targetMet = allAnswered && serviceRows.every((r) => r.p99 < TARGET_P99_MS) && onKafka >= answered;
    const lines = [
      `Signed incoming-call webhooks (\`POST ${PATH}\`, each with its own CallSid, answered with forward + recording TwiML`,
      `from a routing file, voice.call.received fsync'd to the outbox before the answer) against the whole service in its`,
      `own process, Apache Kafka (KRaft, 1 broker, local) stopped for the "Kafka down" rows; autocannon with ${CONNECTIONS}`,
      `connections (100 concurrent calls), ${seconds} s per row. Baseline: a bare Node \`http\` server answering the same`,
      'TwiML, flat out, in the same run.',
      '',
      ...table(
        ['load', 'answers/s', 'p50 ms', 'p99 ms', 'p99 / baseline p99', 'non-2xx', 'errors'],
        rows.map((r) => [
          r.label,
          fmtInt(r.rps),
          r.p50,
          r.p99,
          r === baseline ? '1' : (r.p99 / Math.max(baseline.p99, 1)).toFixed(1),
          r.non2xx,
          r.errors,
        ]),
      ),
      '',
      `Target p99 < ${TARGET_P99_MS} ms on every service row: **${serviceRows.every((r) => r.p99 < TARGET_P99_MS) ? 'met' : 'missed'}**.`,
      `Distinct calls answered 2xx (warm-up included; a row that ran through its pool repeats CallSids): ${fmtInt(answered)}; voice.call.received records on Kafka after the broker came ` +
        `back: ${fmtInt(onKafka)} (every 2xx must be there; requests still in flight when a row ends are answered and ` +
        `published without being counted as 2xx, so records may exceed the count). ${pendingAtRestart} events were waiting ` +
        `in the outbox when the broker started; drained ${drainSecs.toFixed(1)} s later.`,
    ];
    return { lines, targetMet, broker: { kind: 'kafka', label: 'Apache Kafka (KRaft, 1 broker, local)' } };
  } finally {
    for (const c of children) await stopChild(c);
    await kafkaSh(['stop', '--dir', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

async function child(role: string): Promise<void> {
  if (role === 'baseline') {
    const twiml =
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>This call may be recorded.</Say><Dial timeout="20"><Number>+14155550199</Number></Dial></Response>';
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(twiml);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.on('message', (m) => {
      if (m === 'port') process.send!((server.address() as AddressInfo).port);
      if (m === 'stop') server.close(() => process.exit(0));
    });
    process.send!('ready');
    return;
  }
  const server = buildServer(loadConfig(process.env));
  await server.start();
  await server.listen();
  process.on('message', (m) => {
    if (m === 'stop') void server.stop().finally(() => process.exit(0));
  });
  process.send!('ready');
}

const role = process.env[ROLE_ENV];
if (role) {
  void child(role).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  registerBenchmark({ name: 'voice', title: 'Voice: incoming-call webhook to TwiML', run });
}
