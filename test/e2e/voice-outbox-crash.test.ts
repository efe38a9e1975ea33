import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InternalEventV2 } from '../../src/envelope';
import { freePort } from '@ingress-egress/sandbox';
import { onCleanup } from '../helpers/cleanup';
import { createTestTopics, recordCount, testKafka, topicEnv, uniqueName } from '../helpers/kafka';
import { startOwnCluster } from '../helpers/kafka-cluster';
import { readRecords } from '../helpers/kafka-consumer';
import { waitFor } from '../helpers/wait-for';
import {
  callSidOf,
  FORWARD_NUMBER,
  incomingCall,
  postSigned,
  VOICE_ACCOUNT,
  VOICE_TOKEN,
  writeRoutingFile,
} from '../helpers/voice-calls';

jest.setTimeout(240_000);

const root = path.join(__dirname, '..', '..');

/** dist/ must hold the current sources: build when it is missing or older than any source file. */
function ensureBuilt(): void {
  const main = path.join(root, 'dist/src/main.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
    }, 0);
  if (existsSync(main) && statSync(main).mtimeMs >= newest(path.join(root, 'src'))) return;
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}

describe('voice outbox crash (built service, SIGKILL between answering calls and Kafka acknowledging them)', () => {
  beforeAll(() => ensureBuilt());

  it('finds every answered call on Kafka exactly once after a restart', async () => {
    const cluster = await startOwnCluster();
    const topics = await createTestTopics('e2e-voice', cluster.brokers);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      KAFKA_BROKERS: cluster.brokers.join(','),
      KAFKA_GROUP_ID: uniqueName('e2e-voice'),
      ...topicEnv(topics),
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: VOICE_ACCOUNT,
      TWILIO_AUTH_TOKEN: VOICE_TOKEN,
      TWILIO_PHONE_NUMBER: FORWARD_NUMBER,
      TWILIO_WEBHOOK_BASE_URL: base,
      VOICE_ROUTING_FILE: writeRoutingFile(),
      VOICE_OUTBOX_DIR: path.join(mkdtempSync(path.join(tmpdir(), 'e2e-voice-outbox-')), 'outbox'),
    };
    let output = '';
    const run = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js'), 'start'], {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      onCleanup(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`service exited:\n${output}`);
          return fetch(`${base}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          );
        },
        60_000,
        'the service to be ready',
      );
      return child;
    };
    const call = async (n: number) => {
      const started = performance.now();
      const res = await postSigned(`${base}/webhooks/twilio/voice`, incomingCall(n, FORWARD_NUMBER));
      return { ...res, ms: performance.now() - started };
    };

    const first = await run();
    // With Kafka up the event is on Kafka right after the answer.
    expect((await call(1)).status).toBe(200);
    await waitFor(async () => (await recordCount(topics.voiceCalls, cluster.brokers)) === 1, 20_000, 'call 1 on Kafka');

    // Kafka stops answering (SIGSTOP): calls are still answered at once, their events only on disk; then the
    // service dies without a chance to flush anything.
    await cluster.node('freeze');
    const answered = await Promise.all([2, 3, 4, 5, 6].map(call));
    for (const a of answered) {
      expect(a.status).toBe(200);
      expect(a.body).toContain('<Dial');
      expect(a.ms).toBeLessThan(1_000);
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await cluster.node('thaw');
    // Whatever the frozen broker received before the kill it may write now that it runs again.

    const second = await run();
    await waitFor(
      async () => (await recordCount(topics.voiceCalls, cluster.brokers)) >= 6,
      60_000,
      'the restarted service to publish the outbox',
    );
    // One more call after the restart, to know the outbox has moved past the recovered ones.
    expect((await call(7)).status).toBe(200);
    await waitFor(async () => (await recordCount(topics.voiceCalls, cluster.brokers)) >= 7, 30_000, 'call 7 on Kafka');
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    const records = await readRecords({ topics: [topics.voiceCalls], count: 7, kafka: testKafka(cluster.brokers) });
    const events = records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2);
    // Exactly once by id: seven calls, seven records, seven ids.
    expect(await recordCount(topics.voiceCalls, cluster.brokers)).toBe(7);
    expect(new Set(events.map((e) => e.id)).size).toBe(7);
    expect(events.map((e) => e.type === 'voice.call.received' && e.data.callSid).sort()).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map(callSidOf).sort(),
    );
  });
});
