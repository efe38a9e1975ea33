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
  it('without --api and without credentials, says so instead of calling Twilio', async () => {
    await expect(
      messagesCommand(['get', 'SM' + '0'.repeat(32)], io({ KAFKA_BROKERS: 'k:9092', TWILIO_ENABLED: 'false' })),
    ).rejects.toMatchObject({
      message: 'looking up messages needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or --api URL)',
      exitCode: 2,
    });
  });
});
