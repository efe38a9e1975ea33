import { randomBytes } from 'node:crypto';
import { SimulatorError } from './simulator-error';
import { TwilioSimulator } from './twilio-simulator';

/**
 * `ingress-egress simulator`: starts a local Twilio, prints its base URL and
 * the environment that points the service at it, and runs until told to stop.
 */
export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Aborting stops the simulator; without one, SIGINT/SIGTERM do. */
  signal?: AbortSignal;
  /** Called once the simulator listens (tests use it to reach the simulator). */
  onReady?: (sim: TwilioSimulator) => void;
}

export const SIMULATOR_USAGE = `Usage: ingress-egress simulator [options]

Starts a local Twilio (Messages REST API, signed webhooks, faults, inspection).

Options:
  --port N                    port to listen on (default 4010; 0 picks a free one)
  --host HOST                 address to bind (default 127.0.0.1)
  --account-sid AC…           account SID (default ${'AC' + 'c'.repeat(32)})
  --auth-token TOKEN          auth token (default: random for this run)
  --phone-number +E164        a number the account owns (default +15005550006)
  --messaging-service-sid MG… a messaging service of the account
  --webhook-url URL           where simulated inbound texts are posted
  --seed N                    seed for SIDs and random outcomes
  --record FILE               write a recording of every interaction on exit
  -h, --help                  show this help
`;

const DEFAULT_ACCOUNT_SID = 'AC' + 'c'.repeat(32);
const DEFAULT_PORT = 4010;

interface ParsedArgs {
  help: boolean;
  port: number;
  host: string;
  accountSid: string;
  authToken: string | undefined;
  phoneNumber: string;
  messagingServiceSid: string | undefined;
  webhookUrl: string | undefined;
  seed: string | undefined;
  record: string | undefined;
}

const VALUE_FLAGS: Record<string, keyof ParsedArgs> = {
  '--port': 'port',
  '--host': 'host',
  '--account-sid': 'accountSid',
  '--auth-token': 'authToken',
  '--phone-number': 'phoneNumber',
  '--messaging-service-sid': 'messagingServiceSid',
  '--webhook-url': 'webhookUrl',
  '--seed': 'seed',
  '--record': 'record',
};

export function parseSimulatorArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = {
    help: false,
    port: DEFAULT_PORT,
    host: '127.0.0.1',
    accountSid: DEFAULT_ACCOUNT_SID,
    authToken: undefined,
    phoneNumber: '+15005550006',
    messagingServiceSid: undefined,
    webhookUrl: undefined,
    seed: undefined,
    record: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_FLAGS[flag];
    if (!key) throw new SimulatorError('IE_CONFIG_INVALID', `Unknown option ${flag}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new SimulatorError('IE_CONFIG_INVALID', `${flag} needs a value`);
    if (key === 'port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new SimulatorError('IE_CONFIG_INVALID', '--port must be a whole number from 0 to 65535');
      }
      out.port = port;
    } else {
      (out as unknown as Record<string, string>)[key] = value;
    }
  }
  return out;
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  if (signal) {
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  // Only when the caller gave no signal: the command then owns the process's
  // stop signals, as a foreground tool should.
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function runSimulatorCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseSimulatorArgs(argv);
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${SIMULATOR_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(SIMULATOR_USAGE);
    return 0;
  }
  let sim: TwilioSimulator;
  try {
    sim = new TwilioSimulator({
      port: args.port,
      host: args.host,
      accounts: [{ accountSid: args.accountSid, authToken: args.authToken ?? randomBytes(16).toString('hex') }],
      phoneNumbers: [
        {
          phoneNumber: args.phoneNumber,
          ...(args.webhookUrl ? { smsUrl: args.webhookUrl } : {}),
          ...(args.messagingServiceSid ? { messagingServiceSid: args.messagingServiceSid } : {}),
        },
      ],
      messagingServices: args.messagingServiceSid
        ? [{ sid: args.messagingServiceSid, phoneNumbers: [args.phoneNumber] }]
        : [],
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args.record ? { record: { path: args.record } } : {}),
    });
    await sim.start();
  } catch (err) {
    io.stderr.write(`Could not start the simulator: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const base = sim.baseUrl;
  const env = Object.entries(sim.env())
    .map(([k, v]) => `  export ${k}=${v}\n`)
    .join('');
  io.stdout.write(
    `Twilio simulator listening on ${base}\n\n` +
      `Point the service at it:\n${env}\n` +
      `Inspect:       curl ${base}/__sim/stats\n` +
      `Inbound text:  curl -X POST ${base}/__sim/inbound -H 'content-type: application/json' ` +
      `-d '{"from":"+15551230000","to":"${args.phoneNumber}","body":"Hi"${args.webhookUrl ? '' : ',"webhookUrl":"http://127.0.0.1:4000/webhooks/twilio/sms"'}}'\n` +
      `Stop with Ctrl+C.\n`,
  );
  io.onReady?.(sim);
  await waitForStop(io.signal);
  await sim.stop();
  io.stdout.write('Twilio simulator stopped.\n');
  return 0;
}
