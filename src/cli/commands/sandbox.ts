import { parseArgs } from 'node:util';
import type { CliIo } from '../io';
import { createSandboxHost } from '../sandbox-host';

export const SANDBOX_HELP = `Usage: ingress-egress sandbox [--follow] [--no-color]

Starts a local Kafka-protocol broker, the Twilio simulator and the service with
a generated configuration (no credentials), then plays a short story: an
inbound text, STOP, a refused send, START, an accepted send with its status
callbacks, and a Conversations message. Exits 0 when the story played through.

  --follow     keep everything running afterwards and print the URLs
  --no-color   plain output`;

export async function sandboxCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { follow: { type: 'boolean' }, 'no-color': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(`${SANDBOX_HELP}\n`);
    return 0;
  }
  // Loaded on use: starting the service never loads the sandbox (nor the simulator).
  const { runSandbox } = await import('@ingress-egress/sandbox');
  return runSandbox(
    {
      follow: values.follow ?? false,
      color: !values['no-color'] && io.stdout.isTTY === true && io.env.NO_COLOR === undefined,
      out: io.stdout,
      waitForStop: () => io.waitForSignal(),
    },
    createSandboxHost(),
  );
}
