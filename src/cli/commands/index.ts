// Registers the commands that parts bring (simulator, sandbox, send, dlq).
import { registerCommand } from '../cli';
import { dlqCommand } from './dlq';
import { messagesCommand } from './messages';
import { sandboxCommand } from './sandbox';
import { sendCommand } from './send';

registerCommand('simulator', {
  summary: 'run the local Twilio simulator (REST Messages API, signed webhooks) and print the env to use it',
  run: async (args, io) => {
    const stop = new AbortController();
    void io.waitForSignal().then(() => stop.abort());
    // Loaded on use: starting the service never loads the simulator.
    const { runSimulatorCommand } = await import('@ingress-egress/twilio-simulator');
    return runSimulatorCommand(args, { stdout: io.stdout, stderr: io.stderr, signal: stop.signal });
  },
});

registerCommand('sandbox', {
  summary: 'local broker + Twilio simulator + the service, and a short story (--follow keeps it running)',
  run: sandboxCommand,
});
registerCommand('send', { summary: 'publish an sms.outbound.requested event to the egress topic', run: sendCommand });
registerCommand('dlq', {
  summary: 'dlq list | dlq replay [--dry-run]: inspect and re-publish the egress DLQ',
  run: dlqCommand,
});
registerCommand('messages', {
  summary: 'messages get SM… | messages list [filters]: look messages up in Twilio',
  run: messagesCommand,
});
