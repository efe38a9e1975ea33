import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '@ingress-egress/sandbox';
import { onCleanup } from '../helpers/cleanup';
import { startOwnCluster } from '../helpers/kafka-cluster';
import { createTestTopics, topicEnv, uniqueName } from '../helpers/kafka';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..', '..');
const ACCOUNT = 'AC' + 'd4'.repeat(16);
const BUSINESS = '+15557650000';
const DEADLINE_SECS = 4;

/**
 * The built service loses its only broker, webhooks are waiting on it, then SIGTERM: the process must be gone
 * within SHUTDOWN_TIMEOUT_SECS (it used to take 9-11 s whatever the deadline), and its log must say how many
 * records it could not flush.
 */
describe('SIGTERM while Kafka is down (built service)', () => {
  it('exits within the configured deadline and logs what it could not flush', async () => {
    const cluster = await startOwnCluster({ brokers: 1 });
    const topics = await createTestTopics('e2e-down', cluster.brokers);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'info',
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        KAFKA_BROKERS: cluster.brokers.join(','),
        KAFKA_GROUP_ID: uniqueName('e2e-down'),
        ...topicEnv(topics),
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_AUTH_TOKEN: 'e2e-down-token-0123456789',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
        TWILIO_WEBHOOK_BASE_URL: base,
        TWILIO_WEBHOOK_VALIDATION: 'false',
        TWILIO_PHONE_NUMBER: BUSINESS,
        SHUTDOWN_TIMEOUT_SECS: String(DEADLINE_SECS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const readyBy = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited early:\n${stdout}`);
      if (Date.now() > readyBy) throw new Error(`service not ready:\n${stdout}`);
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The egress consumer has joined (its stop is part of the drain being tested).
    while (!stdout.includes('egress partitions assigned')) await new Promise((r) => setTimeout(r, 100));

    await cluster.node('kill', 1);
    // Webhooks whose records wait in the publisher's queue for a broker that is gone.
    const webhooks = Array.from({ length: 20 }, (_, i) =>
      fetch(`${base}/webhooks/twilio/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          MessageSid: 'SM' + String(i).padStart(32, '0'),
          AccountSid: ACCOUNT,
          From: '+15551230000',
          To: BUSINESS,
          Body: 'hello',
          NumMedia: '0',
        }).toString(),
      }).then(
        (r) => r.status,
        () => 0,
      ),
    );
    await new Promise((r) => setTimeout(r, 500));

    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const elapsed = Date.now() - t0;
    const statuses = await Promise.all(webhooks);

    expect(code).toBe(0);
    // None of them was acknowledged: Twilio retries them elsewhere.
    expect(statuses.filter((s) => s >= 200 && s < 300)).toEqual([]);
    expect(elapsed).toBeLessThanOrEqual(DEADLINE_SECS * 1000);
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; unflushedRecords?: number; unsent?: number; ms?: number });
    const stopped = lines.find((l) => l.msg === 'stopped');
    const unsent = lines.find((l) => l.msg === 'kafka publisher stopped with records it could not flush');
    expect(stopped).toBeDefined();
    expect(unsent?.unsent).toBeGreaterThan(0);
    // The final line carries the count, so one line tells the operator what the stop left behind.
    expect(stopped!.unflushedRecords).toBe(unsent!.unsent);
    expect(stopped!.ms).toBeLessThan(DEADLINE_SECS * 1000);
  });
});
