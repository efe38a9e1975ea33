import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

/** The README's sandbox story, run as a user would (the built CLI), must play through and exit 0. */
describe('ingress-egress sandbox', () => {
  it('plays the whole story and exits 0', async () => {
    const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js'), 'sandbox', '--no-color'], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toContain('The story played through.');
    for (const step of [
      'sms.inbound.received',
      'sms.consent.changed',
      'sms.outbound.rejected',
      'sms.outbound.accepted',
      'delivered',
      'conversations from',
      'voice.call.received',
      'voice.dial.completed',
      '(missed call)',
      'voice.recording.completed',
      'voice.transcription.completed',
    ]) {
      expect(out).toContain(step);
    }
    expect(code).toBe(0);
  }, 120_000);
});
