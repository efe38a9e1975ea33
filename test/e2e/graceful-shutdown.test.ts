import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '@ingress-egress/sandbox';
import { SHUTDOWN_STEPS } from '../../src/server';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import '../helpers/cleanup';
import { createTestTopics, testBrokers, topicEnv, uniqueName } from '../helpers/kafka';
import { readRecords } from '../helpers/kafka-consumer';

const root = path.join(__dirname, '..', '..');
const ACCOUNT = 'AC' + 'e'.repeat(32);
const TOKEN = 'e2e-auth-token-0123456789';
const BUSINESS = '+15557650000';

async function waitReady(base: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('service did not become ready');
}

/**
 * The built service as a child process: SIGTERM during a webhook load. It
 * must drain in the documented order, exit 0, and every webhook it answered
 * 2xx must be on Kafka.
 */
describe('graceful shutdown (built service, SIGTERM under load)', () => {
  it('drains in order, loses no acknowledged webhook and exits 0', async () => {
    const topics = await createTestTopics('e2e-shutdown');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [{ phoneNumber: BUSINESS, smsUrl: `${base}/webhooks/twilio/sms#rc=0` }],
    });
    await sim.start();
    const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'info',
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_GROUP_ID: uniqueName('e2e-shutdown'),
        ...topicEnv(topics),
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_API_BASE_URL: sim.baseUrl,
        TWILIO_WEBHOOK_BASE_URL: base,
        TWILIO_PHONE_NUMBER: BUSINESS,
        SHUTDOWN_TIMEOUT_SECS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitReady(base, child);

      // Load: 16 phones texting concurrently until the service is gone.
      const acknowledged: string[] = [];
      const refused: number[] = [];
      let stop = false;
      let sent = 0;
      const phone = async (i: number) => {
        while (!stop) {
          const r = await sim.sendInbound({
            from: `+1555000${String(1000 + i)}`,
            to: BUSINESS,
            body: `load ${sent++}`,
          });
          const last = r.statusCodes[r.statusCodes.length - 1];
          if (last !== undefined && last !== null && last >= 200 && last < 300) acknowledged.push(r.messageSid);
          else refused.push(last ?? 0);
        }
      };
      const load = Promise.all(Array.from({ length: 16 }, (_, i) => phone(i)));
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      const code = await exited;
      stop = true;
      await load;

      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const steps = stdout
        .split('\n')
        .filter((l) => l.includes('"shutdown step"'))
        .map((l) => (JSON.parse(l) as { step: string }).step);
      expect(steps).toEqual([...SHUTDOWN_STEPS]);
      expect(acknowledged.length).toBeGreaterThan(50);

      const records = await readRecords({ topics: [topics.inbound], count: acknowledged.length, timeoutMs: 30_000 });
      const onKafka = new Set(
        records.map((r) => (JSON.parse(r.value!.toString()) as { data: { messageSid: string } }).data.messageSid),
      );
      const lost = acknowledged.filter((sid) => !onKafka.has(sid));
      expect(lost).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await sim.stop();
    }
  }, 120_000);
});
