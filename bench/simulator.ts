/**
 * Benchmark: message creates per second the Twilio simulator answers with zero
 * added latency, next to a bare node:http server answering the same 201 JSON
 * to the same requests in the same run (the ceiling). Load comes from
 * autocannon in a worker thread so the server under test keeps the main one.
 *
 *   npm run build && node dist/bench/simulator.js        (or through bench/run)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { TwilioSimulator } from '../src/simulator';

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
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, durationSec: number, connections: number): Promise<Measured> {
  const result = await autocannon({
    url: `${url}${PATH}`,
    method: 'POST',
    headers: HEADERS,
    body: FORM,
    connections,
    duration: durationSec,
    workers: 1,
  });
  return {
    rps: result.requests.average,
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

export async function run(options: BenchOptions = {}): Promise<{ name: string; lines: string[] }> {
  const durationSec = options.durationSec ?? 5;
  const connections = options.connections ?? 50;

  // A real create answer, so both servers send the same bytes.
  const sim = new TwilioSimulator({ accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }], seed: 1 });
  await sim.start();
  const sample = await fetch(`${sim.baseUrl}${PATH}`, { method: 'POST', headers: HEADERS, body: FORM });
  const sampleBody = await sample.text();
  sim.reset();

  const bare = await bareServer(sampleBody);
  await load(bare.url, 1, connections); // warm-up
  const baseline = await load(bare.url, durationSec, connections);
  await bare.close();

  await load(sim.baseUrl, 1, connections); // warm-up
  sim.reset();
  const simulated = await load(sim.baseUrl, durationSec, connections);
  const created = sim.inspect.sent().length;
  await sim.stop();

  const ratio = simulated.rps / baseline.rps;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return {
    name: 'simulator',
    lines: [
      `Message creates (POST …/Messages.json, form body, Basic auth), ${connections} keep-alive connections, ${durationSec} s, autocannon in a worker thread, status progression on, no faults.`,
      '',
      '| server | requests/s | p50 ms | p99 ms | non-2xx | errors |',
      '|---|---|---|---|---|---|',
      `| bare node:http, same 201 JSON (ceiling) | ${fmt(baseline.rps)} | ${baseline.p50} | ${baseline.p99} | ${baseline.non2xx} | ${baseline.errors} |`,
      `| Twilio simulator | ${fmt(simulated.rps)} | ${simulated.p50} | ${simulated.p99} | ${simulated.non2xx} | ${simulated.errors} |`,
      '',
      `Simulator / bare server: ${(ratio * 100).toFixed(0)}% (target: >= 5,000 creates/s; ${simulated.rps >= 5000 ? 'met' : 'NOT met'}). Messages created during the measured run: ${fmt(created)}.`,
    ],
  };
}

if (require.main === module) {
  run().then(
    (r) => console.log([`## ${r.name}`, '', ...r.lines].join('\n')),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
