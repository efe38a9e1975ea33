import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SmsEnvelopeBuilder, type InternalEventV2 } from '../../src/envelope';
import { createEventPublisher } from '../../src/kafka/create-event-publisher';
import { freePort } from '../../src/kafka/local-broker';
import { silentLogger } from '../../src/observability';
import { TwilioSimulator } from '../../src/simulator';
import { onCleanup } from '../helpers/cleanup';
import { testConfig } from '../helpers/config';
import { createTestTopic, createTestTopics, isMockBroker, testBrokers, testKafka, uniqueName } from '../helpers/kafka';

jest.setTimeout(300_000);

const root = path.join(__dirname, '..', '..');
const ACCOUNT = 'AC' + 'c7'.repeat(16);
const TOKEN = 'e2e-crash-token-0123456789';
const SENDER = '+14155550100';
const N = 2_000;
const customer = (i: number) => `+1415${String(3_000_000 + i).padStart(7, '0')}`;

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

/** Collects records of `topic` from the beginning until `done(records)` holds. */
async function collect(
  topic: string,
  done: (latest: InternalEventV2, all: InternalEventV2[]) => boolean,
  timeoutMs: number,
) {
  const consumer = testKafka().consumer({
    groupId: uniqueName('e2e-crash-reader'),
    sessionTimeout: 6_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
  });
  onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const events: InternalEventV2[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${events.length} records on ${topic}`)), timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(message.value!.toString('utf8')) as InternalEventV2;
        events.push(event);
        if (done(event, events)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return events;
}

describe('egress crash (built service, SIGKILL in the middle of 2,000 sends, restart)', () => {
  beforeAll(() => ensureBuilt());

  it('gives every request one outcome and never texts anyone twice', async () => {
    const sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [{ phoneNumber: SENDER, accountSid: ACCOUNT }],
      autoProgress: false,
      seed: 'crash',
    });
    onCleanup(() => sim.stop());
    await sim.start();
    // Real sends take time: with Twilio at ~20 ms the kill lands while about a hundred are in flight.
    sim.faults.latency(20, { match: { operation: 'create' }, jitterMs: 20 });

    const [topics, ledgerTopic] = await Promise.all([createTestTopics('e2e-crash'), createTestTopic('e2e-ledger')]);
    const groupId = uniqueName('e2e-crash');
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_GROUP_ID: groupId,
      KAFKA_TOPIC_INBOUND: topics.inbound,
      KAFKA_TOPIC_STATUS: topics.status,
      KAFKA_TOPIC_CONSENT: topics.consent,
      KAFKA_TOPIC_EGRESS: topics.egress,
      KAFKA_TOPIC_OUTCOMES: topics.outcomes,
      KAFKA_TOPIC_EGRESS_DLQ: topics.egressDlq,
      KAFKA_TOPIC_EGRESS_LEDGER: ledgerTopic,
      EGRESS_SESSION_TIMEOUT_SECS: isMockBroker() ? '6' : '10',
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: sim.baseUrl,
      TWILIO_WEBHOOK_VALIDATION: 'false',
      TWILIO_PHONE_NUMBER: SENDER,
      TWILIO_TIMEOUT_SECS: '2',
      TWILIO_RATE_LIMIT_PER_SEC: '100000',
      TWILIO_RATE_LIMIT_BURST: '100000',
      TWILIO_PER_NUMBER_RATE: '100000',
      TWILIO_PER_NUMBER_BURST: '100000',
    };
    let output = '';
    const run = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js'), 'start'], {
        cwd: root,
        env: { ...env, HTTP_PORT: String(await freePort()) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      onCleanup(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      return child;
    };

    const producer = createEventPublisher(testConfig(env), {
      logger: silentLogger,
    });
    onCleanup(() => producer.stop());
    await producer.start();
    const builder = new SmsEnvelopeBuilder();
    const requests = Array.from({ length: N }, (_, i) =>
      builder.build('sms.outbound.requested', {
        accountSid: ACCOUNT,
        subject: customer(i),
        data: { to: customer(i), body: `crash test message ${i}` },
      }),
    );
    for (let i = 0; i < N; i += 500) await Promise.all(requests.slice(i, i + 500).map((r) => producer.publish(r)));

    const first = await run();
    const killAt = 700;
    const deadline = Date.now() + 120_000;
    while (sim.inspect.stats().outbound < killAt) {
      if (first.exitCode !== null) throw new Error(`service exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`no progress before the kill:\n${output}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const sentBeforeKill = sim.inspect.stats().outbound;

    const second = await run();
    const ids = new Set<string>();
    const outcomes = await collect(
      topics.outcomes,
      (latest) => {
        ids.add(latest.causationId!);
        return ids.size >= N;
      },
      180_000,
    );
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    // Every request: exactly one outcome id, and it is accepted with the one message the simulator holds.
    const byRequest = new Map<string, InternalEventV2[]>();
    for (const o of outcomes) byRequest.set(o.causationId!, [...(byRequest.get(o.causationId!) ?? []), o]);
    const redelivered = outcomes.length - byRequest.size;
    for (const [i, r] of requests.entries()) {
      const list = byRequest.get(r.id) ?? [];
      expect(new Set(list.map((o) => o.id)).size).toBe(1);
      const o = list[0]!;
      expect(o.type).toBe('sms.outbound.accepted');
      const sent = sim.inspect.sentTo(customer(i));
      expect(sent).toHaveLength(1);
      if (o.type === 'sms.outbound.accepted') expect(o.data.messageSid).toBe(sent[0]!.sid);
    }
    expect(sim.inspect.duplicateCount()).toBe(0);
    expect(sim.inspect.stats().outbound).toBe(N);

    // What the crash left to the ledger: intents of the killed process finished by the new one.
    const ledger = await collectLedger(ledgerTopic);
    const reconciled = outcomes.filter((o) => o.type === 'sms.outbound.accepted' && o.data.deduplicated).length;
    const report = {
      requests: N,
      sentBeforeKill,
      duplicates: sim.inspect.duplicateCount(),
      redeliveredOutcomeRecords: redelivered,
      deduplicatedOutcomes: reconciled,
      unfinishedIntentsAtKill: ledger.unfinishedAcrossOwners,
      intentToSentMs: ledger.windowMs,
    };
    console.log('egress crash test', JSON.stringify(report));
    mkdirSync(path.join(root, 'dist', 'bench-results'), { recursive: true });
    writeFileSync(path.join(root, 'dist', 'bench-results', 'egress-crash.json'), JSON.stringify(report, null, 2));
    expect(sentBeforeKill).toBeGreaterThanOrEqual(700);
    expect(sentBeforeKill).toBeLessThan(N);
  });
});

/** Reads the ledger topic: per key, the intent and sent records and who wrote them. */
async function collectLedger(topic: string) {
  const admin = testKafka().admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  await admin.disconnect();
  const records = (await collect(topic, (_e, all) => all.length >= total, 60_000)) as unknown as {
    key: string;
    state: 'intent' | 'sent';
    owner: string;
    updatedAt: number;
  }[];
  const byKey = new Map<string, { intent?: { owner: string; at: number }; sent?: { owner: string; at: number } }>();
  for (const r of records) {
    const k = byKey.get(r.key) ?? {};
    if (r.state === 'intent') k.intent ??= { owner: r.owner, at: r.updatedAt };
    else k.sent = { owner: r.owner, at: r.updatedAt };
    byKey.set(r.key, k);
  }
  const windows: number[] = [];
  let unfinishedAcrossOwners = 0;
  for (const k of byKey.values()) {
    if (k.intent && k.sent) {
      if (k.intent.owner !== k.sent.owner) unfinishedAcrossOwners++;
      else windows.push(k.sent.at - k.intent.at);
    }
  }
  windows.sort((a, b) => a - b);
  const q = (p: number) => windows[Math.min(windows.length - 1, Math.floor(p * windows.length))] ?? 0;
  return { unfinishedAcrossOwners, windowMs: { p50: q(0.5), p99: q(0.99), max: windows[windows.length - 1] ?? 0 } };
}
