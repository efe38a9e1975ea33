import { ENV_DESCRIPTIONS } from './descriptions';
import { envSchema, SECRET_ENV_VARS, type Env } from './schema';

/** docs/configuration.md, generated from the zod schema (scripts/gen-config-docs.ts). */
export function configurationReference(): string {
  const rows = (Object.keys(envSchema.shape) as (keyof Env)[]).map((name) => {
    const field = envSchema.shape[name];
    const parsed = field.safeParse(undefined);
    const secret = (SECRET_ENV_VARS as readonly string[]).includes(name);
    const def = parsed.success ? (parsed.data === undefined ? '—' : `\`${String(parsed.data)}\``) : 'required';
    return `| \`${name}\` | ${def} | ${secret ? 'yes' : ''} | ${ENV_DESCRIPTIONS[name]} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config (zod schema + descriptions) by `npm run docs:config`. Do not edit by hand: a test fails when this file is stale. -->',
    '',
    'Every variable is read once at start-up. A bad or missing value stops start-up with one error naming every bad variable (values are never echoed).',
    'Variables can also come from a `.env` file (`ingress-egress start --env-file PATH`); the process environment wins.',
    'Run `ingress-egress config check` to validate an environment and print it with secrets masked.',
    '',
    '| variable | default | secret | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
