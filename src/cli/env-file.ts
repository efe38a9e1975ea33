import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { CliError } from './io';

/**
 * The environment for a command: an optional .env file (default `.env` in the
 * working directory when it exists) under the process environment, which wins.
 */
export function loadEnv(
  io: { env: Record<string, string | undefined>; cwd: string },
  envFile?: string,
): Record<string, string | undefined> {
  const file = envFile ?? path.join(io.cwd, '.env');
  if (!existsSync(file)) {
    if (envFile) throw new CliError(`env file not found: ${envFile}`, 2);
    return { ...io.env };
  }
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (err) {
    throw new CliError(`cannot read env file ${file}: ${(err as Error).message}`, 2);
  }
  return { ...parsed, ...io.env };
}
