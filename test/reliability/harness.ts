import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from '@ingress-egress/sandbox';
import { onCleanup } from '../helpers/cleanup';

/**
 * What every reliability scenario shares: the built service as a child process (its whole output kept under
 * build/reliability/logs for the log audit), the run's mode (short in the test command, long on demand), and
 * the row each scenario writes for docs/reliability.md (scripts/reliability-report.ts renders them).
 */
export const ROOT = path.join(__dirname, '..', '..');
export const OUT_DIR = path.join(ROOT, 'build', 'reliability');
export const LOG_DIR = path.join(OUT_DIR, 'logs');
export const ROW_DIR = path.join(OUT_DIR, 'rows');

export type Mode = 'short' | 'long';
export const MODE: Mode = process.env.RELIABILITY_MODE === 'long' ? 'long' : 'short';
/** The short form's figure or the long form's. */
export const byMode = <T>(short: T, long: T): T => (MODE === 'long' ? long : short);

export interface ScenarioRow {
  id: string;
  scenario: string;
  load: string;
  faults: string;
  lost: number | string;
  duplicated: number | string;
  crashes: number;
  recovery: string;
  result: 'pass' | 'fail';
  broker: string;
  /** Anything else measured (figures, the readiness timeline). */
  details?: Record<string, unknown>;
  /** An SVG chart (the soak). */
  svg?: string;
}

/** Writes a scenario's row (whatever its result) for the report. */
export function writeRow(row: ScenarioRow): void {
  mkdirSync(ROW_DIR, { recursive: true });
  const full = { ...row, mode: MODE, at: new Date().toISOString(), commit: commitId() };
  writeFileSync(path.join(ROW_DIR, `${row.id}.json`), JSON.stringify(full, null, 2));
}

export function commitId(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString();
    return dirty.trim() === '' ? sha : `${sha}+changes`;
  } catch {
    return 'unknown';
  }
}

/** dist/ must hold the current sources: build when it is missing or older than any source file. */
export function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist/src/main.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
    }, 0);
  if (existsSync(main) && statSync(main).mtimeMs >= newest(path.join(ROOT, 'src'))) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The built service (`dist/src/main.js start`) on a fixed port, restartable, every byte it prints logged. */
export class ServiceProcess {
  child: ChildProcess | undefined;
  /** Exits nobody asked for (a crash). */
  crashes = 0;
  private expectingExit = false;
  private tail = '';
  private readonly log: WriteStream;
  private starts = 0;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    mkdirSync(LOG_DIR, { recursive: true });
    this.log = createWriteStream(path.join(LOG_DIR, `${name}.log`));
    // The secrets it was given, for the log audit (scenario 8) to look for.
    const secrets = Object.entries(env)
      .filter(([k]) => /TOKEN|SECRET|PASSWORD/.test(k))
      .map(([, v]) => v)
      .filter((v) => v.length >= 8);
    appendFileSync(path.join(OUT_DIR, 'secrets.txt'), secrets.map((v) => `${v}\n`).join(''));
    onCleanup(async () => {
      await this.kill('SIGKILL');
      await new Promise((r) => this.log.end(r));
    });
  }

  static async create(name: string, env: Record<string, string>, port?: number): Promise<ServiceProcess> {
    return new ServiceProcess(name, port ?? (await freePort()), env);
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The last 20 kB printed (for error messages). */
  get output(): string {
    return this.tail;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start with the V8 inspector on 127.0.0.1 (a free port), so collectGarbage() can run a full GC in it. */
  inspect = false;
  private inspectorUrl: string | undefined;

  start(): ChildProcess {
    this.starts++;
    const inspect = this.inspect ? ['--inspect=127.0.0.1:0'] : [];
    const child = spawn(process.execPath, [...inspect, path.join(ROOT, 'dist/src/main.js'), 'start'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        HTTP_HOST: '127.0.0.1',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        // The allocator settings docs/runbook.md ("Memory") recommends for every deployment.
        MALLOC_ARENA_MAX: '2',
        GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
        ...this.env,
        HTTP_PORT: String(this.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.expectingExit = false;
    this.inspectorUrl = undefined;
    const onData = (d: Buffer) => {
      if (this.inspect) this.inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(d.toString())?.[1];
      this.log.write(d);
      this.tail = (this.tail + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => {
      if (!this.expectingExit) this.crashes++;
    });
    this.child = child;
    return child;
  }

  /** Sends a signal and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async readiness(): Promise<number> {
    return fetch(`${this.base}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status,
      () => 0,
    );
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.readiness()) !== 200) {
      if (!this.running) throw new Error(`${this.name} exited before ready:\n${this.tail}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready in ${timeoutMs} ms:\n${this.tail}`);
      await sleep(100);
    }
  }

  /** Resolves when the egress consumer has its partitions (after a start or a restart). */
  async waitEgressAssigned(timeoutMs = 60_000): Promise<void> {
    const mark = this.tail.length;
    void mark;
    const deadline = Date.now() + timeoutMs;
    while (!this.tail.includes('egress partitions assigned')) {
      if (Date.now() > deadline) throw new Error(`${this.name}: egress never assigned:\n${this.tail}`);
      await sleep(100);
    }
  }

  /** Memory figures from /metrics (process_resident_memory_bytes, nodejs_heap_size_used_bytes). */
  async memory(): Promise<{
    rss: number;
    heap: number;
    heapTotal: number;
    external: number;
    spaces: Record<string, number>;
  }> {
    const text = await fetch(`${this.base}/metrics`).then((r) => r.text());
    const lines = text.split('\n');
    const value = (name: string) => {
      const line = lines.find((l) => l.startsWith(`${name} `));
      return line ? Number(line.split(' ')[1]) : NaN;
    };
    // Committed size of each V8 heap space (what the heap holds from the system, used or not).
    const spaces: Record<string, number> = {};
    for (const l of lines) {
      const m = /^nodejs_heap_space_size_total_bytes\{space="([a-z_]+)"\} (\d+)/.exec(l);
      if (m) spaces[m[1]!] = Number(m[2]);
    }
    return {
      rss: value('process_resident_memory_bytes'),
      heap: value('nodejs_heap_size_used_bytes'),
      heapTotal: value('nodejs_heap_size_total_bytes'),
      external: value('nodejs_external_memory_bytes'),
      spaces,
    };
  }

  /**
   * A full garbage collection in the service (HeapProfiler.collectGarbage over the inspector; needs `inspect`), so
   * a heap figure read after it counts live objects, not garbage a major GC has not reached yet.
   */
  async collectGarbage(): Promise<void> {
    const url = this.inspectorUrl;
    if (!url) throw new Error(`${this.name}: no inspector (start it with inspect = true)`);
    const ws = new WebSocket(url);
    try {
      await once(ws, 'open');
      const done = new Promise<void>((resolve) =>
        ws.on('message', (m: Buffer) => {
          if ((JSON.parse(m.toString()) as { id?: number }).id === 1) resolve();
        }),
      );
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
      await done;
    } finally {
      ws.close();
    }
  }

  async metricsText(): Promise<string> {
    return fetch(`${this.base}/metrics`).then((r) => r.text());
  }

  /** Keeps a /metrics snapshot for the audit (scenario 8). */
  async saveMetrics(label = 'end'): Promise<void> {
    if (!this.running) return;
    const text = await this.metricsText().catch(() => '');
    mkdirSync(path.join(OUT_DIR, 'metrics'), { recursive: true });
    writeFileSync(path.join(OUT_DIR, 'metrics', `${this.name}-${label}.txt`), text);
  }
}

/** Runs `fn` with at most `n` in flight. */
export async function pool<T>(
  items: readonly T[],
  n: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** Percentile of a list of numbers (0..1). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
