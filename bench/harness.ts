/**
 * Harness shared by the benchmarks that run the built service (and a bare `http` ceiling) as child
 * processes: a bench module forks itself with a role variable set, and the child serves that role until it is
 * told to stop over IPC. Used by bench/api.ts, bench/voice-ops.ts, bench/voice.ts and bench/ingress.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../src/config';
import { buildServer } from '../src/server';

export async function freeLocalPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Forks `file` with `roleEnv=role`; resolves once the child reports 'ready'. */
export function forkRole(
  file: string,
  roleEnv: string,
  role: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(file, [], { env: { ...process.env, ...env, [roleEnv]: role }, execArgv, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${role} exited with code ${code}`)));
    child.on('message', (m) => {
      if (m === 'ready') resolve(child);
    });
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.send('stop');
  });
}

/** Asks a child for a value over IPC (e.g. 'port'). */
export function ask(child: ChildProcess, question: string): Promise<string> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(String(m)));
    child.send(question);
  });
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits for the service's /readyz. */
export function untilReady(baseUrl: string, timeoutMs = 90_000): Promise<void> {
  return waitUntil('the service to be ready', async () => (await fetch(`${baseUrl}/readyz`)).ok, timeoutMs);
}

/** Child role: the service as deployed (configuration from the environment). */
export async function serveService(): Promise<void> {
  const server = buildServer(loadConfig(process.env));
  await server.start();
  await server.listen();
  process.on('message', (m) => {
    if (m === 'stop') void server.stop().finally(() => process.exit(0));
  });
  process.send?.('ready');
}

/** Child role: a bare Node `http` server that reads the body and answers `status` with `body` (`postBody` to a POST). */
export async function serveBare(
  status: number,
  contentType: string,
  body: string | Buffer,
  postBody: string | Buffer = body,
): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = req.method === 'POST' ? postBody : body;
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (m) => {
    if (m === 'port') process.send?.(String((server.address() as AddressInfo).port));
    if (m === 'stop') server.close(() => process.exit(0));
  });
  process.send?.('ready');
}

/** Percentile (nearest rank) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** "load average 1.23, commit abc1234": what the section's figures depended on besides the machine. */
export function runContext(): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return `1-minute load average ${os.loadavg()[0]!.toFixed(2)} before the run, commit ${commit}`;
}

/** Peak resident set (VmHWM) of a live process, in MB; undefined when /proc is not there. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface OtlpSink {
  /** Base endpoint for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter posts to <url>/v1/traces). */
  url: string;
  /** Export requests and bytes received so far. */
  stats(): { requests: number; bytes: number };
  stop(): Promise<void>;
}

/**
 * An OTLP/HTTP collector on 127.0.0.1 that reads every export, answers 200 and keeps nothing: an empty protobuf
 * ExportTraceServiceResponse to a protobuf export, `{}` to a JSON one.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      requests++;
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, bytes }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A sampler by the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG values. */
export interface BenchSampler {
  name: string;
  arg?: string;
}

/** Every trace sampled: what the tracing cost target is stated for. */
export const SAMPLE_ALL: BenchSampler = { name: 'always_on' };

/** The standard variables that turn the service's tracing on, exported to `sinkUrl`; every trace sampled by default. */
export function tracingEnv(
  sinkUrl: string,
  protocol: 'http/protobuf' | 'http/json' = 'http/protobuf',
  sampler: BenchSampler = SAMPLE_ALL,
): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_TRACES_SAMPLER: sampler.name,
    ...(sampler.arg !== undefined ? { OTEL_TRACES_SAMPLER_ARG: sampler.arg } : {}),
    OTEL_SERVICE_NAME: 'ingress-egress-bench',
  };
}

export const fmtMs = (ms: number): string => (ms >= 10 ? ms.toFixed(0) : ms.toFixed(1));
