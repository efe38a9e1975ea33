import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { createLogger } from '../../observability';
import { buildServer } from '../../server';
import { loadEnv } from '../env-file';
import { type CliIo } from '../io';

export const START_HELP = `Usage: ingress-egress start [--env-file PATH]

Starts the service: webhooks and health on HTTP_PORT, the Kafka publisher, the
Twilio connector (webhooks, Conversations session, egress consumer). Stops
gracefully on SIGTERM/SIGINT (a second signal forces exit). Configuration comes
from the environment and an optional .env file; see docs/configuration.md.`;

export async function startCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'env-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(`${START_HELP}\n`);
    return 0;
  }
  const config = loadConfig(loadEnv(io, values['env-file']));
  const logger = createLogger({ level: config.logLevel });
  const server = buildServer(config, {
    logger,
    onStopped: () => new Promise<void>((resolve) => logger.flush(() => resolve())),
  });
  try {
    await server.start();
    await server.listen();
  } catch (err) {
    logger.error({ err }, 'start-up failed');
    await server.stop();
    throw err;
  }
  const signal = await io.waitForSignal();
  logger.info({ signal }, 'stopping');
  await server.stop();
  return 0;
}
