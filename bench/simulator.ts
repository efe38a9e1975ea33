/**
 * Benchmark: message creates per second the Twilio simulator answers with zero
 * added latency, next to a bare node:http server answering the same 201 JSON
 * to the same requests in the same run (the ceiling). Load comes from
 * autocannon in a worker thread so the server under test keeps the main one.
 * Rounds alternate ceiling and simulator and the medians are reported, so load
 * from other processes hits both alike.
 *
 *   npm run bench simulator        BENCH_SIMULATOR_SECONDS=10 npm run bench simulator
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const TARGET_CREATES_PER_SEC = 5000;
const ROUNDS = 3;
const ACCOUNT = 'AC' + 'b'.repeat(32);
const TOKEN = 'bench-auth-token';
const PATH = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const FORM = new URLSearchParams({
  To: '+15558675310',
  From: '+15005550006',
  Body: 'Benchmark message body',
}).toString();
const HEADERS = {
  authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`,
  'content-type': 'application/x-www-form-urlencoded',
  accept: 'application/json',
};

export interface BenchOptions {
  durationSec?: number;
  connections?: number;
  rounds?: number;
}

interface Measured {
  rps: number;
  /** Main-thread (server) busy time per answered request: less sensitive to other load than rps. */
  busyUs: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, durationSec: number, connections: number): Promise<Measured> {
  const elu = performance.eventLoopUtilization();
  const result = await autocannon({
    url: `${url}${PATH}`,
    method: 'POST',
    headers: HEADERS,
    body: FORM,
    connections,
    duration: durationSec,
    workers: 1,
  });
  const busy = performance.eventLoopUtilization(elu);
  return {
    rps: result.requests.average,
    busyUs: (busy.active * 1000) / Math.max(1, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The ceiling: answers every request with a prerendered Message JSON, as fast as node:http can. */
async function bareServer(body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function median(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)] ?? { rps: 0, busyUs: 0, p50: 0, p99: 0, non2xx: 0, errors: 0 };
}

export async function run(
  options: BenchOptions = {},
): Promise<{ name: string; lines: string[]; createsPerSec: number; ratio: number }> {
  const durationSec = options.durationSec ?? Number(process.env.BENCH_SIMULATOR_SECONDS ?? 4);
  const connections = options.connections ?? 50;
  const rounds = options.rounds ?? ROUNDS;

  const loadBefore = os.loadavg()[0] ?? 0;
  // Default options: status progression on, request log on, no faults.
  const sim = new TwilioSimulator({ accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }], seed: 1 });
  await sim.start();
  // A real create answer, so both servers send the same bytes.
  const sample = await fetch(`${sim.baseUrl}${PATH}`, { method: 'POST', headers: HEADERS, body: FORM });
  const bare = await bareServer(await sample.text());

  await load(bare.url, 1, connections);
  await load(sim.baseUrl, 1, connections);
  sim.reset();
  const ceiling: Measured[] = [];
  const simulated: Measured[] = [];
  for (let i = 0; i < rounds; i++) {
    ceiling.push(await load(bare.url, durationSec, connections));
    simulated.push(await load(sim.baseUrl, durationSec, connections));
  }
  const created = sim.inspect.stats();
  await bare.close();
  await sim.stop();

  const b = median(ceiling);
  const s = median(simulated);
  const ratio = s.rps / b.rps;
  const busyB = medianOf(ceiling.map((m) => m.busyUs));
  const busyS = medianOf(simulated.map((m) => m.busyUs));
  const row = (label: string, m: Measured, busy: number) => [
    label,
    fmtInt(m.rps),
    busy.toFixed(0),
    m.p50,
    m.p99,
    m.non2xx,
    m.errors,
  ];
  return {
    name: 'simulator',
    createsPerSec: s.rps,
    ratio,
    lines: [
      `Message creates (\`POST …/Messages.json\`, form body, Basic auth) over ${connections} keep-alive connections,`,
      `autocannon in a worker thread; ${rounds} alternating rounds of ${durationSec} s, medians. Simulator with default`,
      'options: status progression on, request log on, no faults (zero added latency). "Server µs/request" is the',
      "main thread's busy time (event-loop utilisation) per answered request.",
      '',
      ...table(
        ['server', 'creates/s', 'server µs/request', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        [row('bare node:http, same 201 JSON (ceiling)', b, busyB), row('Twilio simulator', s, busyS)],
      ),
      '',
      `Simulator: **${fmtInt(s.rps)} creates/s**, ${(ratio * 100).toFixed(0)}% of the bare server in the same run; ` +
        `server time per request ${(busyS / busyB).toFixed(1)}× the bare server's ` +
        `(target ≥ ${fmtInt(TARGET_CREATES_PER_SEC)} creates/s: ${s.rps >= TARGET_CREATES_PER_SEC ? 'met' : 'NOT met'}). ` +
        `Rounds (simulator): ${simulated.map((m) => fmtInt(m.rps)).join(', ')}; ` +
        `(ceiling): ${ceiling.map((m) => fmtInt(m.rps)).join(', ')}. ` +
        `Messages created: ${fmtInt(created.outbound + created.evicted)}.`,
      '',
      `1-minute load average ${loadBefore.toFixed(1)} before and ${(os.loadavg()[0] ?? 0).toFixed(1)} after the run ` +
        `on ${os.cpus().length} cores: other work on the machine moves absolute figures; the same-run comparison is the one to read.`,
    ],
  };
}

registerBenchmark({
  name: 'simulator',
  title: 'Twilio simulator: message creates/s',
  run: async (): Promise<BenchmarkReport> => {
    const r = await run();
    return { lines: r.lines, targetMet: r.createsPerSec >= TARGET_CREATES_PER_SEC };
  },
});
