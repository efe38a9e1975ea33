/**
 * Small pieces the ingress, egress, tracing and budgets benchmarks share: the service child's peak memory, a local
 * OTLP/HTTP sink that accepts and discards spans (so the export cost is real), the OTEL_* environment that turns
 * tracing on at 100 %, and percentiles of latency samples.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** An OTLP/HTTP collector on 127.0.0.1 that reads every export, answers 200 and keeps nothing. */
export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
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

/** The standard variables that turn the service's tracing on, every trace sampled, exported to `sinkUrl`. */
export function tracingEnv(sinkUrl: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_SERVICE_NAME: 'ingress-egress-bench',
  };
}

/** The q-th percentile (0–100) of samples, nearest rank. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))]!;
}

export const fmtMs = (ms: number): string => (ms >= 10 ? ms.toFixed(0) : ms.toFixed(1));
