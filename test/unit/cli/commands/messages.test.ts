import { messagesCommand } from '../../../../src/cli/commands/messages';
import type { CliIo } from '../../../../src/cli/io';

function io(env: Record<string, string>): CliIo {
  return {
    argv: [],
    env,
    cwd: '/nonexistent-dir-for-tests',
    stdout: { write: () => true },
    stderr: { write: () => true },
    waitForSignal: () => new Promise(() => undefined),
  };
}

describe('ingress-egress messages', () => {
  it('without --api on a configuration with Twilio off, says so instead of calling Twilio without credentials', async () => {
    await expect(
      messagesCommand(['get', 'SM' + '0'.repeat(32)], io({ KAFKA_BROKERS: 'k:9092', TWILIO_ENABLED: 'false' })),
    ).rejects.toMatchObject({
      message: 'looking up messages needs Twilio: TWILIO_ENABLED=false here (or use --api URL)',
      exitCode: 2,
    });
  });
});
