import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SmsEnvelopeBuilder, type InternalEventV2 } from '../../src/envelope';
import { createEventPublisher } from '../../src/kafka/create-event-publisher';
import { freePort } from '@ingress-egress/sandbox';
import { silentLogger } from '../../src/observability';
import { onCleanup } from '../helpers/cleanup';
import { testConfig } from '../helpers/config';
import { startEgressBed } from '../helpers/egress-bed';
import { recordCount } from '../helpers/kafka';
import { followTopics, type TopicFollower } from '../helpers/kafka-consumer';

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

/** The records of `topic` decoded, once `done` holds for them. */
async function collect<T = InternalEventV2>(
  reader: TopicFollower,
  topic: string,
  done: (all: T[]) => boolean,
  timeoutMs: number,
): Promise<T[]> {
  const events: T[] = [];
  await reader.until(
    topic,
    (records) => {
      for (const r of records.slice(events.length)) events.push(JSON.parse(r.value!.toString('utf8')) as T);
      return done(events);
    },
    timeoutMs,
  );
  return events;
}

describe('egress crash (built service, SIGKILL in the middle of 2,000 sends, restart)', () => {
  beforeAll(() => ensureBuilt());

  it('gives every request one outcome and never texts anyone twice', async () => {
    const { sim, topics, ledgerTopic, ...bed } = await startEgressBed('e2e-crash', {
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [{ phoneNumber: SENDER, accountSid: ACCOUNT }],
      autoProgress: false,
      seed: 'crash',
    });
    // Real sends take time: with Twilio at ~20 ms the kill lands while about a hundred are in flight.
    sim.faults.latency(20, { match: { operation: 'create' }, jitterMs: 20 });

    const env = {
      ...bed.env,
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HTTP_HOST: '127.0.0.1',
      TWILIO_TIMEOUT_SECS: '2',
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
    const reader = await followTopics([topics.outcomes, ledgerTopic], { groupPrefix: 'e2e-crash-reader' });
    const outcomes = await collect(
      reader,
      topics.outcomes,
      (all) => new Set(all.map((o) => o.causationId)).size >= N,
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
    const ledger = await collectLedger(reader, ledgerTopic);
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
async function collectLedger(reader: TopicFollower, topic: string) {
  const total = await recordCount(topic);
  const records = await collect<{ key: string; state: 'intent' | 'sent'; owner: string; updatedAt: number }>(
    reader,
    topic,
    (all) => all.length >= total,
    60_000,
  );
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
