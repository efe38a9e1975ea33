/**
 * Benchmark: the operator call routes, `GET /api/calls/{CallSid}/recording` (streams the call's latest recording,
 * fetched from Twilio with the account's credentials) and `POST /api/calls/{CallSid}/end` (hangs a live call up),
 * each with 50 concurrent requests, through the real service in a child process against the Twilio simulator (in a
 * child process of its own, so neither shares an event loop with autocannon). Baselines in the same run: the same
 * requests straight to the simulator (what the service forwards to: the recording's media, the call update), and a
 * bare Node `http` server answering with the same WAV bytes.
 *
 *   npm run bench voice-ops
 *   BENCH_VOICE_OPS_DURATION=10 BENCH_VOICE_OPS_LIVE_CALLS=2000 npm run bench voice-ops
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { prepareServiceTopics, startBenchBroker } from './broker';
import { ask, forkRole, freeLocalPort, runContext, serveBare, serveService, stopChild, untilReady } from './harness';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const ROLE_ENV = 'IE_BENCH_VOICE_OPS_ROLE';
const ACCOUNT = 'AC' + '8'.repeat(32);
const TOKEN = 'bench-voice-ops-auth-token-0123456789';
const API_TOKEN = 'bench-voice-ops-bearer-0123456789abcdef';
const NUMBER = '+14155550100';
const CONNECTIONS = 50;
const DURATION = Number(process.env.BENCH_VOICE_OPS_DURATION ?? 10);
/** Live calls per end run: each is ended once (a repeat would only find it already ended). */
const LIVE_CALLS = Number(process.env.BENCH_VOICE_OPS_LIVE_CALLS ?? 2000);
const RECORDINGS = 50;
const TARGET_RECORDING_P95_MS = 300;
const TARGET_END_P95_MS = 150;
const BASIC = 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64');
/** ~10 s of speech: the simulator records about one second per 2.5 words. */
const SPEECH = Array.from({ length: 25 }, (_, i) => `word${i}`).join(' ');

interface SimCalls {
  calls: { callSid: string; recordingSid: string }[];
}

interface Row {
  label: string;
  ok: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  bytes: number;
}

/** autocannon with a path per request; `amount` requests, or `DURATION` seconds when undefined. */
async function drive(
  label: string,
  url: string,
  method: 'GET' | 'POST',
  paths: string[],
  headers: Record<string, string>,
  body: string | undefined,
  amount: number | undefined,
  wrap: boolean,
): Promise<Row> {
  let next = 0;
  const r = await autocannon({
    url,
    method,
    connections: CONNECTIONS,
    ...(amount !== undefined ? { amount } : { duration: DURATION }),
    requests: [
      {
        setupRequest: (req) => {
          if (next >= paths.length && wrap) next = 0;
          const p = paths[next++];
          if (!p) throw new Error('ran out of request paths');
          return { ...req, method, path: p, headers: { ...headers }, ...(body !== undefined ? { body } : {}) };
        },
      },
    ],
  });
  // autocannon's histogram has p97_5 and p99 but no p95: take the larger neighbour, p97.5 (an upper bound).
  const row: Row = {
    label,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    rps: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p95: r.latency.p97_5,
    p99: r.latency.p99,
    bytes: r.throughput.total / Math.max(r.requests.total, 1),
  };
  console.log(
    `${label}: ${fmtInt(row.rps)} 2xx/s, p50 ${row.p50} p97.5 ${row.p95} p99 ${row.p99} ms, non-2xx ${row.non2xx}, errors ${row.errors}`,
  );
  return row;
}

async function run(): Promise<BenchmarkReport> {
  const context = runContext();
  const broker = await startBenchBroker();
  const outbox = mkdtempSync(path.join(os.tmpdir(), 'bench-voice-ops-'));
  const children: ChildProcess[] = [];
  try {
    const sim = await forkRole(__filename, ROLE_ENV, 'simulator', {});
    children.push(sim);
    const simUrl = await ask(sim, 'url');
    const recorded = JSON.parse(await ask(sim, `recorded:${RECORDINGS}`)) as SimCalls;
    const wav = await fetch(
      `${simUrl}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${recorded.calls[0]!.recordingSid}.wav`,
      { headers: { authorization: BASIC } },
    ).then(async (r) => Buffer.from(await r.arrayBuffer()));
    const bare = await forkRole(__filename, ROLE_ENV, 'baseline', { IE_BENCH_VOICE_OPS_WAV_BYTES: String(wav.length) });
    children.push(bare);
    const bareUrl = `http://127.0.0.1:${await ask(bare, 'port')}`;

    const port = await freeLocalPort();
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_CLIENT_ID: 'bench-voice-ops',
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: simUrl,
      TWILIO_PHONE_NUMBER: NUMBER,
      TWILIO_WEBHOOK_BASE_URL: 'https://voice.bench.example',
      VOICE_OUTBOX_DIR: outbox,
      API_TOKENS: `ops:send+read:${API_TOKEN}`,
      API_RATE_LIMIT_PER_SEC: '1000000',
      API_RATE_LIMIT_BURST: '10000000',
    };
    const service = await forkRole(
      __filename,
      ROLE_ENV,
      'service',
      { ...env, ...(await prepareServiceTopics(broker, env)) },
      ['--max-semi-space-size=32'],
    );
    children.push(service);
    const serviceUrl = `http://127.0.0.1:${port}`;
    await untilReady(serviceUrl);
    const bearer = { authorization: `Bearer ${API_TOKEN}` };

    const recordingPaths = recorded.calls.map((c) => `/api/calls/${c.callSid}/recording`);
    const mediaPaths = recorded.calls.map((c) => `/2010-04-01/Accounts/${ACCOUNT}/Recordings/${c.recordingSid}.wav`);
    // Warm-up: connections, JIT.
    await drive('warm-up', serviceUrl, 'GET', recordingPaths, bearer, undefined, 500, true);
    const rec = await drive(
      'service, recording',
      serviceUrl,
      'GET',
      recordingPaths,
      bearer,
      undefined,
      undefined,
      true,
    );
    const recSim = await drive(
      'simulator media, direct',
      simUrl,
      'GET',
      mediaPaths,
      { authorization: BASIC },
      undefined,
      undefined,
      true,
    );
    const recBare = await drive('bare http, same WAV', bareUrl, 'GET', ['/'], {}, undefined, undefined, true);

    const form = { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' };
    const live1 = JSON.parse(await ask(sim, `live:${LIVE_CALLS}`)) as SimCalls;
    const end = await drive(
      'service, end',
      serviceUrl,
      'POST',
      live1.calls.map((c) => `/api/calls/${c.callSid}/end`),
      bearer,
      undefined,
      LIVE_CALLS,
      false,
    );
    const ended = Number(await ask(sim, 'live-left')) === 0;
    const live2 = JSON.parse(await ask(sim, `live:${LIVE_CALLS}`)) as SimCalls;
    const endSim = await drive(
      'simulator call update, direct',
      simUrl,
      'POST',
      live2.calls.map((c) => `/2010-04-01/Accounts/${ACCOUNT}/Calls/${c.callSid}.json`),
      form,
      'Status=completed',
      LIVE_CALLS,
      false,
    );
    const endBare = await drive('bare http, POST', bareUrl, 'POST', ['/'], {}, 'Status=completed', LIVE_CALLS, true);

    const recMet = rec.p95 < TARGET_RECORDING_P95_MS && rec.non2xx === 0 && rec.errors === 0;
    const endMet = end.p95 < TARGET_END_P95_MS && end.non2xx === 0 && end.errors === 0 && ended;
    const verdict = (m: boolean) => (m ? 'met' : 'NOT met');
    const ratio = (a: number, b: number) => `${(a / Math.max(b, 1)).toFixed(1)}×`;
    const rows = (rs: Row[]) =>
      rs.map((r) => [r.label, fmtInt(r.ok), fmtInt(r.rps), r.p50, r.p95, r.p99, r.non2xx, r.errors, fmtInt(r.bytes)]);
    const headers = [
      'target',
      '2xx',
      '2xx/s',
      'p50 ms',
      'p97.5 ms (≥ p95)',
      'p99 ms',
      'non-2xx',
      'errors',
      'bytes/answer',
    ];
    const lines = [
      'The whole service in a child process against the Twilio simulator (a child process of its own) and',
      `${broker.label} (the service needs it to start; these routes do not touch it); autocannon with ${CONNECTIONS}`,
      `connections in this process. 2 cores shared by all of them; ${context}. autocannon reports p97.5, not p95: the`,
      'tables give p97.5, an upper bound of p95, and the targets are checked against it.',
      '',
      `### \`GET /api/calls/{CallSid}/recording\`, ${CONNECTIONS} concurrent, ${DURATION} s`,
      '',
      `${RECORDINGS} calls created in the simulator with \`Record=true\` (~10 s recordings, ${fmtInt(wav.length)}-byte WAVs), requested`,
      "round robin. Per request the service lists the call's recordings and streams the newest one's media from the",
      'simulator (two Twilio requests, Basic auth); the direct row fetches only the media.',
      '',
      ...table(headers, rows([rec, recSim, recBare])),
      '',
      `- p95 ≤ **${rec.p95} ms** (target < ${TARGET_RECORDING_P95_MS} ms: ${verdict(recMet)}); ratio to the simulator's media served directly ` +
        `${ratio(rec.p95, recSim.p95)}, to the bare server ${ratio(rec.p95, recBare.p95)}.`,
      '',
      `### \`POST /api/calls/{CallSid}/end\`, ${CONNECTIONS} concurrent, ${fmtInt(LIVE_CALLS)} live calls`,
      '',
      `${fmtInt(LIVE_CALLS)} live calls in the simulator (\`<Say>\` then a long \`<Pause>\`), each ended once. The direct row updates`,
      `another ${fmtInt(LIVE_CALLS)} live calls to \`Status=completed\` straight at the simulator with the same concurrency.`,
      '',
      ...table(headers, rows([end, endSim, endBare])),
      '',
      `- p95 ≤ **${end.p95} ms** (target < ${TARGET_END_P95_MS} ms: ${verdict(endMet)}); ratio to the direct update ` +
        `${ratio(end.p95, endSim.p95)}, to the bare server ${ratio(end.p95, endBare.p95)}. Every call ended: ${ended ? 'yes' : 'NO'}.`,
    ];
    return { lines, targetMet: recMet && endMet, broker: { kind: broker.kind, label: broker.label } };
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    await broker.stop();
    rmSync(outbox, { recursive: true, force: true });
  }
}

/** Child role: the simulator, creating calls on request. */
async function serveSimulator(): Promise<void> {
  const sim = new TwilioSimulator({
    accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
    phoneNumbers: [{ phoneNumber: NUMBER, accountSid: ACCOUNT }],
    autoProgress: false,
    requestLog: false,
    seed: 'bench-voice-ops',
  });
  await sim.start();
  let live: string[] = [];
  const create = async (twiml: string): Promise<string> => {
    const res = await fetch(`${sim.baseUrl}/2010-04-01/Accounts/${ACCOUNT}/Calls.json`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: '+14155550123', From: NUMBER, Twiml: twiml, Record: 'true' }).toString(),
    });
    const body = (await res.json()) as { sid?: string };
    if (!res.ok || !body.sid) throw new Error(`call create answered ${res.status}`);
    return body.sid;
  };
  const createMany = async (n: number, twiml: string): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i += 50) {
      out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => create(twiml)))));
    }
    return out;
  };
  const handle = async (m: string): Promise<string> => {
    if (m === 'url') return sim.baseUrl;
    if (m.startsWith('recorded:')) {
      const sids = await createMany(Number(m.slice(9)), `<Response><Say>${SPEECH}</Say></Response>`);
      await sim.idle();
      const calls = sids.map((callSid) => {
        const rec = sim.voice.recordings(callSid)[0];
        if (!rec) throw new Error(`no recording for ${callSid}`);
        return { callSid, recordingSid: rec.sid };
      });
      return JSON.stringify({ calls });
    }
    if (m.startsWith('live:')) {
      live = await createMany(Number(m.slice(5)), '<Response><Say>please hold</Say><Pause length="600"/></Response>');
      return JSON.stringify({ calls: live.map((callSid) => ({ callSid, recordingSid: '' })) });
    }
    if (m === 'live-left') {
      return String(live.filter((sid) => sim.voice.callView(sid)?.status === 'in-progress').length);
    }
    throw new Error(`unknown request ${m}`);
  };
  process.on('message', (m) => {
    if (m === 'stop') {
      sim.reset();
      void sim.stop().finally(() => process.exit(0));
      return;
    }
    handle(String(m)).then(
      (answer) => process.send?.(answer),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  process.send?.('ready');
}

const role = process.env[ROLE_ENV];
if (role) {
  const serve =
    role === 'service'
      ? serveService()
      : role === 'simulator'
        ? serveSimulator()
        : serveBare(
            200,
            'audio/x-wav',
            Buffer.alloc(Number(process.env.IE_BENCH_VOICE_OPS_WAV_BYTES ?? 0), 1),
            // What the end route answers: a small JSON.
            JSON.stringify({ callSid: 'CA' + '0'.repeat(32), status: 'completed', alreadyEnded: false }),
          );
  serve.catch((err: unknown) => {
    console.error(`voice-ops ${role} failed:`, err);
    process.exit(1);
  });
} else {
  registerBenchmark({ name: 'voice-ops', title: 'Voice operator routes: recording stream and end call', run });
}
