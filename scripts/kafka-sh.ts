import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The repository root, from scripts/ or from its compiled copy in dist/scripts/. */
export const REPO_ROOT = path.resolve(
  __dirname,
  '..',
  ...(path.basename(path.dirname(__dirname)) === 'dist' ? ['..'] : []),
);
const KAFKA_SH = path.join(REPO_ROOT, 'scripts', 'kafka.sh');

/** Runs scripts/kafka.sh (the local Apache Kafka launcher; tests and benchmarks) and returns its stdout. */
export async function kafkaSh(args: string[], timeoutMs = 180_000): Promise<string> {
  const { stdout } = await run(KAFKA_SH, args, { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 1 << 20 });
  return stdout.trim();
}
