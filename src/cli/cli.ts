import { IngressEgressError } from '../errors';
import { configCheckCommand, CONFIG_CHECK_HELP } from './commands/config-check';
import { startCommand } from './commands/start';
import { CliError, type CliIo } from './io';

type Command = { summary: string; run: (args: string[], io: CliIo) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  start: { summary: 'run the service (env + optional .env file)', run: startCommand },
  config: {
    summary: 'config check: validate the environment, print it with secrets masked',
    run: async (args, io) => {
      if (args[0] === 'check') return configCheckCommand(args.slice(1), io);
      io.stdout.write(`${CONFIG_CHECK_HELP}\n`);
      return args[0] === '--help' || args[0] === '-h' ? 0 : 2;
    },
  },
};

/** Adds a command (used by parts that bring their own: simulator, sandbox, send, dlq). */
export function registerCommand(name: string, command: Command): void {
  COMMANDS[name] = command;
}

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: ingress-egress <command> [options]

Connects Twilio SMS/MMS and Apache Kafka.

Commands:
${lines.join('\n')}

Run 'ingress-egress <command> --help' for a command's options.`;
}

/** Runs one CLI invocation; returns the exit code. Errors become one readable line. */
export async function runCli(io: CliIo): Promise<number> {
  const [name, ...args] = io.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${helpText()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`ingress-egress: unknown command '${name}'. Run 'ingress-egress --help'.\n`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`ingress-egress ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof IngressEgressError) {
      io.stderr.write(`ingress-egress ${name}: ${err.message} [${err.code}]\n`);
      return 1;
    }
    // node:util parseArgs errors (unknown option, missing value) are usage errors.
    if (String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`ingress-egress ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    io.stderr.write(`ingress-egress ${name}: unexpected error: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
