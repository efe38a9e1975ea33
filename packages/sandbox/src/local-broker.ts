import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export interface LocalKafkaBrokerOptions {
  /** Number of mock brokers (1..16). */
  brokers?: number;
  /** First port; brokers listen on port, port+1, … . 0 picks a free range. */
  port?: number;
  /** Topics to pre-create as `name` or `name:partitions` (the mock has no CreateTopics API). */
  topics?: string[];
  /** Path of the launcher binary (default: build/kafka-mock-broker in the repository). */
  binary?: string;
  startTimeoutMs?: number;
}

export function defaultBrokerBinary(): string {
  // packages/sandbox/{src,dist} → the repository's build/ (scripts/build-broker.sh writes it there).
  return path.resolve(__dirname, '..', '..', '..', 'build', 'kafka-mock-broker');
}

/** A free TCP port range on 127.0.0.1 (best effort: asks the OS for one port, checks the next ones). */
export async function freePort(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listenOnce(0);
    let ok = true;
    for (let i = 1; i < count && ok; i++) ok = (await listenOnce(first + i).catch(() => -1)) > 0;
    if (ok) return first;
  }
  throw new Error('no free port range found');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

/**
 * The local Kafka-protocol broker (librdkafka's mock cluster in the project's
 * launcher, built by scripts/build-broker.sh) as a child process. Used by the
 * sandbox and the tests; start/stop are idempotent. The child exits when this
 * process dies, because it watches its stdin.
 */
export class LocalKafkaBroker {
  private child: ChildProcess | undefined;
  private starting: Promise<string> | undefined;
  private stopping: Promise<void> | undefined;
  private bootstrap: string | undefined;
  private port: number;

  constructor(private readonly options: LocalKafkaBrokerOptions = {}) {
    this.port = options.port ?? 0;
  }

  get bootstrapServers(): string {
    if (!this.bootstrap) throw new Error('local broker is not running');
    return this.bootstrap;
  }

  get brokerList(): string[] {
    return this.bootstrapServers.split(',');
  }

  start(): Promise<string> {
    if (this.starting) return this.starting;
    this.stopping = undefined;
    this.starting = this.spawnBroker().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async spawnBroker(): Promise<string> {
    const binary = this.options.binary ?? defaultBrokerBinary();
    if (!existsSync(binary)) {
      throw new Error(`local broker binary not found at ${binary}: run scripts/build-broker.sh`);
    }
    const brokers = this.options.brokers ?? 1;
    if (this.port === 0) this.port = await freePort(brokers);
    const args = ['--brokers', String(brokers), '--port', String(this.port), '--exit-on-stdin-eof'];
    for (const t of this.options.topics ?? []) args.push('--topic', t);
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const timeoutMs = this.options.startTimeoutMs ?? 10000;
    this.bootstrap = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('local broker did not become ready')), timeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /READY (\S+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`local broker exited with code ${code}: ${stderr.trim()}`));
      });
    });
    return this.bootstrap;
  }

  /** Stops the broker (the same ports are reused on the next start, so clients can reconnect). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const child = this.child;
    this.starting = undefined;
    this.bootstrap = undefined;
    this.child = undefined;
    if (!child || child.exitCode !== null) return (this.stopping = Promise.resolve());
    this.stopping = new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
      child.stdin?.end();
    });
    return this.stopping;
  }
}
