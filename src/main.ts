#!/usr/bin/env node
/**
 * The process entry (the `ingress-egress` bin). The only file that touches
 * process.*: argv, env, signals, exit.
 */
import { runCli } from './cli/cli';
import './cli/commands';
import { fatalErrorLine, unhandledRejectionReporter } from './observability';
import { startTracing } from './telemetry/start-tracing';

// OpenTelemetry's SDK, only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER asks for it; the code
// itself uses only the API (a no-op until this registers a provider).
const tracing = startTracing(process.env);

let signalled: ((name: string) => void) | undefined;
const firstSignal = new Promise<string>((resolve) => {
  signalled = resolve;
});
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`ingress-egress: second ${sig}, forcing exit\n`);
      process.exit(130);
    }
    signalled?.(sig);
  });
}

// A library's promise nobody awaited must not kill the service (e.g. the
// Conversations SDK's Sync fetches); it is logged by the part that owns it.
// The report on stderr is redacted like every log line.
process.on('unhandledRejection', unhandledRejectionReporter(process.stderr));

runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  waitForSignal: () => firstSignal,
}).then(
  async (code) => {
    process.exitCode = code;
    // Export the spans still queued, within a bound: a collector that is down must not hold the exit.
    if (tracing) await Promise.race([tracing.shutdown(), new Promise((r) => setTimeout(r, 2000).unref())]);
    // Let stdout drain; anything still holding the loop after a stop is a bug, not a reason to hang.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(fatalErrorLine(err));
    process.exit(1);
  },
);
