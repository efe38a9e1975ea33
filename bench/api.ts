/**
 * Benchmark: the HTTP API's send route (`POST /api/sms`), three measurements in one run against the real service
 * in a child process, the bench broker (Apache Kafka by default, bench/broker.ts) and the Twilio simulator (in this
 * process):
 *
 *  a. `POST /api/sms` → 202 at a fixed 1,000 requests/s (autocannon, latencies corrected for coordinated omission),
 *     beside a bare Node `http` server answering the same 202 in the same run (its p99 at the same rate and its
 *     flat-out ceiling next to the service's).
 *  b. `POST /api/sms?wait=5000` end to end (API → Kafka → egress → simulator → outcome → answer) at a modest
 *     steady rate, so it measures latency, not saturation.
 *  c. Priority lanes: 10,000 `bulk` requests queued behind a realistic account rate limit, then `urgent` requests
 *     spread over the drain; for each urgent one, the simulator's create time of its message minus the moment its
 *     202 arrived.
 *
 *   npm run bench api
 *   BENCH_API_RATE=1000 BENCH_API_DURATION=10 BENCH_API_BULK=10000 BENCH_API_ACCOUNT_RATE=300 npm run bench api
 */
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { prepareServiceTopics, startBenchBroker, type BenchBroker } from './broker';
import {
  ask,
  forkRole,
  freeLocalPort,
  percentile,
  runContext,
  serveBare,
  serveService,
  stopChild,
  untilReady,
  waitUntil,
} from './harness';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const ROLE_ENV = 'IE_BENCH_API_ROLE';
const ACCOUNT = 'AC' + '6'.repeat(32);
const TOKEN = 'bench-api-auth-token-0123456789abcdef';
const API_TOKEN = 'bench-api-bearer-0123456789abcdef0123';
const SENDER = '+14155550100';
const RATE = Number(process.env.BENCH_API_RATE ?? 1000);
const DURATION = Number(process.env.BENCH_API_DURATION ?? 10);
const CONNECTIONS = 50;
const WAIT_RATE = Number(process.env.BENCH_API_WAIT_RATE ?? 30);
const WAIT_DURATION = Number(process.env.BENCH_API_WAIT_DURATION ?? 20);
const BULK = Number(process.env.BENCH_API_BULK ?? 10_000);
const ACCOUNT_RATE = Number(process.env.BENCH_API_ACCOUNT_RATE ?? 300);
const URGENT = Number(process.env.BENCH_API_URGENT ?? 150);
const TARGET_P99_MS = 50;
const TARGET_WAIT_P50_MS = 200;
const TARGET_URGENT_P99_MS = 1000;
const BARE_ANSWER = JSON.stringify({ requestId: '3f1c9a52-1b7e-4c1d-9b0e-6f2a8d4e5c71' });

const unique = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const phone = (base: number, i: number) => `+1415${String(base + i).padStart(7, '0')}`;
const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };

function serviceEnv(bootstrap: string, sim: TwilioSimulator, port: number, limits: Record<string, string>) {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    KAFKA_BROKERS: bootstrap,
    KAFKA_CLIENT_ID: 'bench-api',
    KAFKA_GROUP_ID: unique('bench-api-group'),
    KAFKA_TOPIC_EGRESS: unique('bench-api-egress'),
    KAFKA_TOPIC_EGRESS_URGENT: unique('bench-api-urgent'),
    KAFKA_TOPIC_EGRESS_BULK: unique('bench-api-bulk'),
    KAFKA_TOPIC_OUTCOMES: unique('bench-api-outcomes'),
    KAFKA_TOPIC_EGRESS_DLQ: unique('bench-api-dlq'),
    KAFKA_TOPIC_EGRESS_LEDGER: unique('bench-api-ledger'),
    KAFKA_TOPIC_CONSENT: unique('bench-api-consent'),
    KAFKA_TOPIC_INBOUND: unique('bench-api-inbound'),
    KAFKA_TOPIC_STATUS: unique('bench-api-status'),
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_API_BASE_URL: sim.baseUrl,
    TWILIO_PHONE_NUMBER: SENDER,
    TWILIO_WEBHOOK_BASE_URL: 'https://sms.bench.example',
    TWILIO_PER_NUMBER_RATE: '100000',
    TWILIO_PER_NUMBER_BURST: '1000000',
    API_TOKENS: `bench:send+read:${API_TOKEN}`,
    API_RATE_LIMIT_PER_SEC: '1000000',
    API_RATE_LIMIT_BURST: '10000000',
    EGRESS_SESSION_TIMEOUT_SECS: '10',
    ...limits,
  };
}

async function startService(
  broker: BenchBroker,
  sim: TwilioSimulator,
  limits: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freeLocalPort();
  const env = serviceEnv(broker.bootstrap, sim, port, limits);
  const child = await forkRole(
    __filename,
    ROLE_ENV,
    'service',
    { ...env, ...(await prepareServiceTopics(broker, env)) },
    ['--max-semi-space-size=32'],
  );
  const url = `http://127.0.0.1:${port}`;
  await untilReady(url);
  return { child, url };
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

/** autocannon POSTs of distinct SMS requests; `rate` undefined = flat out. */
async function post(
  label: string,
  url: string,
  path: string,
  seconds: number,
  rate: number | undefined,
  connections: number,
  body: (i: number) => object,
): Promise<Row & { result: autocannon.Result }> {
  let n = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    ...(rate !== undefined ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          path,
          headers: { ...headers },
          body: JSON.stringify(body(n++)),
        }),
      },
    ],
  });
  return {
    label,
    result,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

const smsBody = (base: number, priority?: string) => (i: number) => ({
  to: phone(base, i),
  body: `Your appointment is confirmed for tomorrow at 10:30. Reply STOP to opt out. (${i})`,
  ...(priority ? { priority } : {}),
});

async function run(): Promise<BenchmarkReport> {
  const context = runContext();
  const broker = await startBenchBroker();
  const sim = new TwilioSimulator({
    accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
    phoneNumbers: [{ phoneNumber: SENDER, accountSid: ACCOUNT }],
    autoProgress: false,
    requestLog: false,
    seed: 'bench-api',
  });
  await sim.start();
  const children: ChildProcess[] = [];
  try {
    const bare = await forkRole(__filename, ROLE_ENV, 'baseline', {});
    children.push(bare);
    const bareUrl = `http://127.0.0.1:${await ask(bare, 'port')}`;

    // a, the front door alone: an instance with TWILIO_ENABLED=false serves the API (it writes to Kafka and never
    // calls Twilio) and runs no egress, so the row measures the API, not egress sending on the same 2 cores.
    const front = await startService(broker, sim, { TWILIO_ENABLED: 'false' });
    children.push(front.child);
    await post('warm-up', front.url, '/api/sms', 5, 500, CONNECTIONS, smsBody(500_000));
    const aFront = await post(
      `API-only instance (TWILIO_ENABLED=false), ${fmtInt(RATE)}/s`,
      front.url,
      '/api/sms',
      DURATION,
      RATE,
      CONNECTIONS,
      smsBody(600_000),
    );
    await stopChild(front.child);
    children.splice(children.indexOf(front.child), 1);

    // a (all in one) + b: one service with unbounded rate limits.
    const fast = await startService(broker, sim, {
      TWILIO_RATE_LIMIT_PER_SEC: '100000',
      TWILIO_RATE_LIMIT_BURST: '1000000',
      EGRESS_CONCURRENCY: '100',
    });
    children.push(fast.child);
    const warm = await post('warm-up', fast.url, '/api/sms', 5, 500, CONNECTIONS, smsBody(1_000_000));
    await post('warm-up', bareUrl, '/api/sms', 3, 500, CONNECTIONS, smsBody(0));
    // The simulator's counters, polled once a second: it runs in this process, so polling must stay cheap.
    const outbound = () => sim.inspect.stats().outbound;
    const drained = async (n: number) => outbound() >= n;
    const a = await post(
      `service, ${fmtInt(RATE)}/s`,
      fast.url,
      '/api/sms',
      DURATION,
      RATE,
      CONNECTIONS,
      smsBody(2_000_000),
    );
    const aBare = await post(
      `bare http, ${fmtInt(RATE)}/s`,
      bareUrl,
      '/api/sms',
      DURATION,
      RATE,
      CONNECTIONS,
      smsBody(0),
    );
    // Egress sends what phase a queued; let it finish before measuring end-to-end latency.
    const sentBeforeWait = warm.ok + a.ok;
    await waitUntil('egress to send phase a', () => drained(sentBeforeWait), 180_000, 1000).catch(() => undefined);
    const flat = await post(
      'service, flat out',
      fast.url,
      '/api/sms',
      DURATION,
      undefined,
      CONNECTIONS,
      smsBody(3_000_000),
    );
    const flatBare = await post(
      'bare http, flat out',
      bareUrl,
      '/api/sms',
      DURATION,
      undefined,
      CONNECTIONS,
      smsBody(0),
    );
    for (const r of [a, aBare, flat, flatBare]) {
      console.log(
        `${r.label}: ${fmtInt(r.rps)} 2xx/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
      );
    }
    await waitUntil(
      'egress to send the flat-out requests',
      () => drained(sentBeforeWait + flat.ok),
      240_000,
      1000,
    ).catch(() => undefined);

    const waited = await post(
      `service ?wait=5000, ${WAIT_RATE}/s`,
      fast.url,
      '/api/sms?wait=5000',
      WAIT_DURATION,
      WAIT_RATE,
      WAIT_RATE,
      smsBody(4_000_000),
    );
    const waitStatus = waited.result.statusCodeStats as Record<string, { count: number }>;
    const answered200 = waitStatus['200']?.count ?? 0;
    const answered202 = waitStatus['202']?.count ?? 0;
    const wl = waited.result.latency;
    console.log(`?wait: 200 ${answered200}, 202 ${answered202}, p50 ${wl.p50} p90 ${wl.p90} p99 ${wl.p99} ms`);
    await stopChild(fast.child);
    children.splice(children.indexOf(fast.child), 1);

    // c: priority lanes under a realistic account rate.
    const lanes = await startService(broker, sim, {
      TWILIO_RATE_LIMIT_PER_SEC: String(ACCOUNT_RATE),
      TWILIO_RATE_LIMIT_BURST: String(Math.ceil(ACCOUNT_RATE / 10)),
      TWILIO_PER_SENDER_RATE: '100000',
      EGRESS_CONCURRENCY: '50',
    });
    children.push(lanes.child);
    const bulkBase = 5_000_000;
    const urgentBase = 6_000_000;
    const isBulk = (to: string) => to >= phone(bulkBase, 0) && to < phone(bulkBase, BULK);
    const outboundBeforeLanes = outbound();
    const bulkStart = Date.now();
    let queued = 0;
    while (queued < BULK) {
      const chunk = Math.min(BULK - queued, 2000);
      const r = await autocannon({
        url: lanes.url,
        method: 'POST',
        connections: CONNECTIONS,
        amount: chunk,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              method: 'POST',
              path: '/api/sms',
              headers: { ...headers },
              body: JSON.stringify(smsBody(bulkBase, 'bulk')(queued++)),
            }),
          },
        ],
      });
      if (r.non2xx + r.errors > 0) console.log(`bulk chunk: ${r.non2xx} non-2xx, ${r.errors} errors`);
    }
    const bulkQueuedSecs = (Date.now() - bulkStart) / 1000;
    const bulkSentAtQueued = outbound() - outboundBeforeLanes;
    const expectedDrainSecs = BULK / (ACCOUNT_RATE * 0.5);
    const spacing = Math.max(50, (expectedDrainSecs * 1000 * 0.8) / URGENT);
    const acked = new Map<string, number>();
    let urgentRefused = 0;
    const urgentSends: Promise<void>[] = [];
    for (let i = 0; i < URGENT; i++) {
      const to = phone(urgentBase, i);
      urgentSends.push(
        fetch(`${lanes.url}/api/sms`, {
          method: 'POST',
          headers: { ...headers },
          body: JSON.stringify({ to, body: `Your code is ${100000 + i}`, priority: 'urgent' }),
        }).then(
          async (res) => {
            await res.arrayBuffer();
            if (res.status === 202) acked.set(to, Date.now());
            else urgentRefused++;
          },
          () => {
            urgentRefused++;
          },
        ),
      );
      await new Promise((r) => setTimeout(r, spacing));
    }
    await Promise.all(urgentSends);
    await waitUntil(
      'the bulk backlog and the urgent requests to be sent',
      async () => outbound() - outboundBeforeLanes >= BULK + acked.size,
      (expectedDrainSecs * 3 + 60) * 1000,
      1000,
    ).catch(() => undefined);
    const sent = sim.inspect.sent();
    const bulkTimes = sent
      .filter((m) => isBulk(m.to))
      .map((m) => m.dateCreated.getTime())
      .sort((x, y) => x - y);
    const drainRate = bulkTimes.length > 1 ? (bulkTimes.length - 1) / ((bulkTimes.at(-1)! - bulkTimes[0]!) / 1000) : 0;
    const urgentLatency: number[] = [];
    for (const m of sent) {
      const at = acked.get(m.to);
      if (at !== undefined) urgentLatency.push(Math.max(0, m.dateCreated.getTime() - at));
    }
    const urgentMissing = acked.size - urgentLatency.length;
    const bulkLeftAtEnd = BULK - bulkTimes.length;
    const duplicates = sim.inspect.duplicateCount();
    console.log(
      `lanes: bulk drained ${bulkTimes.length}/${BULK} at ${drainRate.toFixed(1)}/s; urgent ${urgentLatency.length}/${URGENT} ` +
        `p50 ${percentile(urgentLatency, 50)} p99 ${percentile(urgentLatency, 99)} max ${percentile(urgentLatency, 100)} ms`,
    );

    const met1000 = (r: Row) => r.p99 < TARGET_P99_MS && r.non2xx === 0 && r.errors === 0 && r.rps >= RATE * 0.98;
    // The target is the front door's: the API-only instance. The all-in-one row is reported beside it.
    const aMet = met1000(aFront);
    const waitMet = wl.p50 < TARGET_WAIT_P50_MS && answered200 === waited.ok && waited.errors === 0;
    const urgentP99 = percentile(urgentLatency, 99);
    const lanesMet = urgentP99 < TARGET_URGENT_P99_MS && urgentMissing === 0 && acked.size === URGENT;
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    const fmt = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : '–');
    const lines = [
      `The whole service in a child process (API, publisher, egress consumers, send ledger, rate limiter, official twilio SDK)`,
      `with ${broker.label} and the Twilio simulator (in the bench process, status progression off); a bare Node \`http\``,
      `server answering the same 202 JSON in another child is the baseline. 2 cores shared by the service, the broker, the`,
      `simulator and autocannon; ${context}.`,
      '',
      `### a. \`POST /api/sms\` → 202 at ${fmtInt(RATE)} requests/s`,
      '',
      `Each request a distinct recipient (a ~100-byte JSON body, bearer token), ${CONNECTIONS} connections, ${DURATION} s per row,`,
      'latencies corrected for coordinated omission at the fixed rate. The service answers 202 only after Kafka acknowledged',
      "the record (acks=all). The API-only instance (TWILIO_ENABLED=false) runs no egress; the all-in-one instance's",
      'egress consumer sends the same requests to the simulator meanwhile, on the same 2 cores.',
      '',
      ...table(
        ['load', '2xx/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        [aFront, a, aBare, flat, flatBare].map((r) => [r.label, fmtInt(r.rps), r.p50, r.p99, r.non2xx, r.errors]),
      ),
      '',
      `- p99 at ${fmtInt(RATE)}/s, the front door (API-only instance): **${aFront.p99} ms** (target < ${TARGET_P99_MS} ms: ` +
        `${verdict(aMet)}); bare \`http\` at the same rate: ${aBare.p99} ms (ratio ` +
        `${(aFront.p99 / Math.max(aBare.p99, 1)).toFixed(1)}×).`,
      `- The all-in-one instance, its egress sending the same ${fmtInt(RATE)} SMS/s through the simulator on the same cores: ` +
        `p99 **${a.p99} ms** (${verdict(met1000(a))} against the same target; ratio ` +
        `${(a.p99 / Math.max(aBare.p99, 1)).toFixed(1)}× the bare server).`,
      `- Flat out: ${fmtInt(flat.rps)} requests/s vs ${fmtInt(flatBare.rps)}/s for the bare server: ratio ` +
        `**${(flat.rps / Math.max(flatBare.rps, 1)).toFixed(3)}**.`,
      '',
      `### b. \`?wait=5000\` end to end at ${WAIT_RATE} requests/s`,
      '',
      `API → Kafka → egress (ledger intent, consent, rate limit, circuit breaker, Twilio create) → \`sms.outcomes\` → the API's`,
      `outcome watcher → 200 with the MessageSid; ${WAIT_DURATION} s at a fixed ${WAIT_RATE}/s (up to ${WAIT_RATE} in flight).`,
      '',
      ...table(
        [
          'answered 200 (outcome)',
          'answered 202 (no outcome in time)',
          'errors',
          'p50 ms',
          'p90 ms',
          'p97.5 ms',
          'p99 ms',
          'max ms',
        ],
        [[answered200, answered202, waited.errors, wl.p50, wl.p90, wl.p97_5, wl.p99, wl.max]],
      ),
      '',
      `- p50 **${wl.p50} ms** (target < ${TARGET_WAIT_P50_MS} ms, every answer an outcome: ${verdict(waitMet)}); the bare server's p50 ` +
        `in row a: ${aBare.p50} ms.`,
      '',
      `### c. Priority lanes: urgent behind ${fmtInt(BULK)} queued bulk requests`,
      '',
      `A second service instance with TWILIO_RATE_LIMIT_PER_SEC=${ACCOUNT_RATE} (bulk held to EGRESS_BULK_RATE_SHARE, default 0.5),`,
      `EGRESS_CONCURRENCY=50. ${fmtInt(BULK)} \`priority: bulk\` requests were posted through the API flat out (${bulkQueuedSecs.toFixed(1)} s;`,
      `${fmtInt(bulkSentAtQueued)} messages already sent by then), then ${URGENT} \`priority: urgent\` requests one every ${Math.round(spacing)} ms`,
      "over the drain. Urgent latency = the simulator's create time of the message minus the moment the 202 arrived here.",
      '',
      ...table(
        [
          'bulk drained',
          'bulk drain rate /s',
          'urgent accepted by Twilio',
          'urgent p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'duplicate SMS',
        ],
        [
          [
            `${fmtInt(bulkTimes.length)} / ${fmtInt(BULK)}`,
            drainRate.toFixed(1),
            `${urgentLatency.length} / ${URGENT}`,
            fmt(percentile(urgentLatency, 50)),
            fmt(percentile(urgentLatency, 95)),
            fmt(urgentP99),
            fmt(percentile(urgentLatency, 100)),
            duplicates,
          ],
        ],
      ),
      '',
      `- Urgent requests not answered 202: ${urgentRefused}. Urgent p99 **${fmt(urgentP99)} ms** (target < ${TARGET_URGENT_P99_MS} ms: ${verdict(lanesMet)})` +
        (bulkLeftAtEnd > 0
          ? `; ${fmtInt(bulkLeftAtEnd)} bulk requests were still unsent when the bench stopped waiting.`
          : '.'),
    ];
    return { lines, targetMet: aMet && waitMet && lanesMet, broker: { kind: broker.kind, label: broker.label } };
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    await sim.stop();
    await broker.stop();
  }
}

const role = process.env[ROLE_ENV];
if (role === 'service') {
  serveService().catch((err: unknown) => {
    console.error('api bench service failed:', err);
    process.exit(1);
  });
} else if (role === 'baseline') {
  serveBare(202, 'application/json; charset=utf-8', BARE_ANSWER).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  registerBenchmark({ name: 'api', title: 'HTTP API: POST /api/sms, ?wait end to end, priority lanes', run });
}
