import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, maskedEnv } from '../../config';
import { loadEnv } from '../env-file';
import { type CliIo } from '../io';

export const CONFIG_CHECK_HELP = `Usage: ingress-egress config check [--env-file PATH] [--json]

Validates the environment (and the .env file) and prints the effective
configuration with every secret masked. Exits 1 and names every bad variable
when the configuration is invalid.`;

export async function configCheckCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'env-file': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(`${CONFIG_CHECK_HELP}\n`);
    return 0;
  }
  const env = loadEnv(io, values['env-file']);
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      if (values.json) io.stdout.write(`${JSON.stringify({ valid: false, problems: err.problems }, null, 2)}\n`);
      else {
        io.stderr.write(`configuration is invalid:\n`);
        for (const p of err.problems) io.stderr.write(`  ${p.variable}: ${p.message}\n`);
      }
      return 1;
    }
    throw err;
  }
  const masked = maskedEnv(env);
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ valid: true, effective: masked }, null, 2)}\n`);
  } else {
    io.stdout.write('configuration is valid; effective values (secrets masked):\n');
    const width = Math.max(...Object.keys(masked).map((k) => k.length));
    for (const [k, v] of Object.entries(masked)) io.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  }
  return 0;
}
