import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const TOKEN = 'token-that-must-not-leak-0123456789';

/** `ingress-egress start` (the built service) with one Twilio URL on plain http:// to a non-loopback host. */
function start(overrides: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(root, 'dist/src/main.js'), 'start'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      KAFKA_BROKERS: '127.0.0.1:9',
      TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_WEBHOOK_BASE_URL: 'https://sms.example.com',
      ...overrides,
    },
  });
}

describe('HTTPS-only Twilio URLs at start-up (built service)', () => {
  it.each([
    ['TWILIO_API_BASE_URL', 'http://api.twilio.com'],
    ['TWILIO_STATUS_CALLBACK_URL', 'http://sms.example.com/webhooks/twilio/status'],
    ['TWILIO_WEBHOOK_BASE_URL', 'http://sms.example.com'],
  ])('refuses %s=%s with one line naming the variable', (name, url) => {
    const r = start({ [name]: url });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name} must use https://`);
    expect(r.stderr + r.stdout).not.toContain(TOKEN);
  });
});
