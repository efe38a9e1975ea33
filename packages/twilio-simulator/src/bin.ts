#!/usr/bin/env node
// `npx @ingress-egress/twilio-simulator [options]` (or `twilio-simulator`): the simulator on its own.
import { runSimulatorCommand } from './cli';

void runSimulatorCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const coded = err as { message?: unknown; code?: unknown };
    process.stderr.write(
      `twilio-simulator: ${String(coded.message ?? err)}${coded.code ? ` [${String(coded.code)}]` : ''}\n`,
    );
    process.exitCode = 2;
  },
);
