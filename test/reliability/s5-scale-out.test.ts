import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SmsEnvelopeBuilder, type InternalEventV2 } from '../../src/envelope';
import { createEventPublisher } from '../../src/kafka/create-event-publisher';
import { murmur2 } from '../../src/kafka/java-partitioner';
import { silentLogger } from '../../src/observability';
import { onCleanup } from '../helpers/cleanup';
import { testConfig } from '../helpers/config';
import { startEgressBed } from '../helpers/egress-bed';
import { testBrokers, testKafka } from '../helpers/kafka';
import { followTopics } from '../helpers/kafka-consumer';
import { brokerLabel } from './broker-label';
import { collectOutcomes, countOutcomes } from './egress-outcomes';
import { byMode, ensureBuilt, LOG_DIR, MODE, OUT_DIR, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(900_000);

const ACCOUNT = 'AC' + '5c'.repeat(16);
const TOKEN = 'rel-scale-out-token-0123456789';
const SENDER = '+14155550500';
/** Partitions of the egress topic. */
const PARTITIONS = 12;
/** The account limit (TWILIO_RATE_LIMIT_PER_SEC): low, so it binds and a window holds enough creates to measure. */
const LIMIT = 10;
/** Its burst: scaled by each instance's share and rounded down, so 1 token per instance. */
const BURST = 3;
/** Requests kept waiting on each partition (written as the service sends), so every instance always has work. */
const QUEUED = 4;
/** Each measured window, once the group has settled and every instance is sending. */
const WINDOW_MS = byMode(10_000, 60_000);
/** EGRESS_SESSION_TIMEOUT_SECS: the broker's least (group.min.session.timeout.ms, 6 s), so a kill is noticed soon. */
const SESSION_SECS = 6;
/** The tolerance of the rate and of the shares' sum. */
const TOLERANCE = 0.05;
/** Sliding windows for the most creates ever seen in one (the bound is burst + limit × window). */
const SLIDING_MS = 10_000;
const customer = (i: number) => `+1415${String(8_000_000 + i).padStart(7, '0')}`;
/** The partition the service's publisher (the Java client's partitioner) puts a request for `to` on. */
const partitionOf = (to: string) => (murmur2(to) & 0x7fffffff) % PARTITIONS;

interface Phase {
  name: string;
  instances: string[];
  /** When every live instance had logged its part of a full assignment of the partitions. */
  settledAt: number;
  /** The window measured: from when every live instance had sent after settling (+0.5 s), for WINDOW_MS. */
  from: number;
  to: number;
  creates: number;
  ratePerSec: number;
  shares: Record<string, number>;
  shareSum: number;
}

/** The last normal-lane assignment an instance logged ("egress partitions assigned"), from its whole log. */
function lastAssignment(service: ServiceProcess): number[] | undefined {
  let text = '';
  try {
    text = readFileSync(path.join(LOG_DIR, `${service.name}.log`), 'utf8');
  } catch {
    return undefined;
  }
  let last: number[] | undefined;
  for (const line of text.split('\n')) {
    if (!line.includes('egress partitions assigned')) continue;
    try {
      const e = JSON.parse(line) as { msg?: string; lane?: string; partitions?: number[] };
      if (e.msg === 'egress partitions assigned' && (e.lane ?? 'normal') === 'normal') last = e.partitions ?? [];
    } catch {
      // a line cut by the write in progress: the next poll reads it whole
    }
  }
  return last;
}

/** The live instances hold every partition once between them (each logged its part of one assignment). */
function settled(live: ServiceProcess[]): boolean {
  const parts = live.map(lastAssignment);
  if (parts.some((p) => p === undefined || p.length === 0)) return false;
  const all = parts.flatMap((p) => p!);
  return all.length === PARTITIONS && new Set(all).size === PARTITIONS;
}

async function shareOf(service: ServiceProcess): Promise<number> {
  const text = await service.metricsText().catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith('twilio_rate_limit_share '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/**
 * Scenario 5. Three instances of the built service in one egress group (12 partitions) under an account limit of
 * 10 messages/s that binds (every partition always has requests waiting); one instance SIGKILLed, later a fourth
 * started. No request is sent twice or lost; in each settled window the instances' `twilio_rate_limit_share`
 * gauges add up to 1 and the create rate the simulator saw is the account limit (±5 %), and no 10 s window of the
 * run sees more than the limit allows.
 */
describe('reliability 5: scale-out', () => {
  beforeAll(() => ensureBuilt());

  it(`holds ${LIMIT}/s across 3 instances through a SIGKILL and a fourth instance, sending each request once`, async () => {
    const brokers = testBrokers();
    const { sim, topics, ...bed } = await startEgressBed(
      'rel-scale-out',
      {
        accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
        phoneNumbers: [{ phoneNumber: SENDER, accountSid: ACCOUNT }],
        autoProgress: false,
        seed: 'rel-scale-out',
      },
      brokers,
    );
    const admin = testKafka(brokers).admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic: topics.egress, count: PARTITIONS }] });
    await admin.disconnect();
    const env = {
      ...bed.env,
      NODE_ENV: 'test',
      TWILIO_TIMEOUT_SECS: '2',
      TWILIO_RATE_LIMIT_PER_SEC: String(LIMIT),
      TWILIO_RATE_LIMIT_BURST: String(BURST),
      // Only the account limit binds: the sender shares it by default, recipients are all different.
      TWILIO_PER_SENDER_RATE: '100000',
      TWILIO_PER_SENDER_BURST: '100000',
      EGRESS_SESSION_TIMEOUT_SECS: String(SESSION_SECS),
    };
    // Each instance its own voice outbox (one process may hold a directory).
    const services = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        ServiceProcess.create(`scale-out-${i}`, {
          ...env,
          VOICE_OUTBOX_DIR: path.join(OUT_DIR, 'voice-outbox', `scale-out-${i}`),
        }),
      ),
    );
    const [a, b, c, d] = services as [ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess];
    const reader = await followTopics([topics.outcomes], { groupPrefix: 'rel-scale-out-reader' });
    const producer = createEventPublisher(testConfig(env), { logger: silentLogger });
    onCleanup(() => producer.stop());
    await producer.start();

    // Requests per partition, written as the service sends them so that QUEUED wait on each partition.
    const builder = new SmsEnvelopeBuilder();
    const requests: InternalEventV2[] = [];
    const recipients: string[] = [];
    const spare: string[][] = Array.from({ length: PARTITIONS }, () => []);
    let nextCustomer = 0;
    const recipientOn = (p: number): string => {
      while (spare[p]!.length === 0) {
        const to = customer(nextCustomer++);
        spare[partitionOf(to)]!.push(to);
      }
      return spare[p]!.shift()!;
    };
    const written = new Array<number>(PARTITIONS).fill(0);
    const creates = () =>
      sim.inspect.requests({ operation: 'create' }).filter((r) => r.resource === 'messages' && r.status === 201);
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        const sent = new Array<number>(PARTITIONS).fill(0);
        for (const to of new Set(creates().map((r) => r.to!))) sent[partitionOf(to)]!++;
        const writes: Promise<unknown>[] = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let k = written[p]! - sent[p]!; k < QUEUED; k++) {
            const to = recipientOn(p);
            const request = builder.build('sms.outbound.requested', {
              accountSid: ACCOUNT,
              subject: to,
              data: { to, body: `body-canary scale-out ${requests.length}` },
            });
            requests.push(request);
            recipients.push(to);
            written[p]!++;
            writes.push(producer.publish(request));
          }
        }
        await Promise.all(writes);
        await sleep(200);
      }
    })();

    const t0 = Date.now();
    const waitSettled = async (live: ServiceProcess[], timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!settled(live)) {
        for (const s of live) if (!s.running) throw new Error(`${s.name} exited:\n${s.output}`);
        if (Date.now() > deadline) throw new Error(`group never settled on ${live.map((s) => s.name).join(', ')}`);
        await sleep(100);
      }
      return Date.now();
    };
    const phases: Phase[] = [];
    /** Waits until every live instance has sent after `settledAt`, measures WINDOW_MS, reads the shares. */
    const measure = async (name: string, live: ServiceProcess[], settledAt: number): Promise<void> => {
      const owner = new Map<number, string>();
      for (const s of live) for (const p of lastAssignment(s) ?? []) owner.set(p, s.name);
      const deadline = Date.now() + 60_000;
      let from = NaN;
      while (Date.now() < deadline) {
        const firsts = new Map<string, number>();
        for (const r of creates()) {
          const at = r.at.getTime();
          const by = owner.get(partitionOf(r.to!))!;
          if (at >= settledAt && !firsts.has(by)) firsts.set(by, at);
        }
        if (firsts.size === live.length) {
          from = Math.max(...firsts.values()) + 500;
          break;
        }
        await sleep(100);
      }
      if (Number.isNaN(from)) throw new Error(`${name}: an instance never sent after the group settled`);
      if (from > Date.now()) await sleep(from - Date.now());
      await sleep(WINDOW_MS / 2);
      const shares: Record<string, number> = {};
      for (const s of live) shares[s.name] = await shareOf(s);
      await sleep(from + WINDOW_MS - Date.now());
      const to = from + WINDOW_MS;
      const n = creates().filter((r) => r.at.getTime() >= from && r.at.getTime() < to).length;
      const shareSum = Object.values(shares).reduce((x, y) => x + y, 0);
      phases.push({
        name,
        instances: live.map((s) => s.name),
        settledAt: settledAt - t0,
        from: from - t0,
        to: to - t0,
        creates: n,
        ratePerSec: n / (WINDOW_MS / 1000),
        shares,
        shareSum,
      });
    };

    let killedAt = 0;
    let addedAt = 0;
    const recovery = { afterKillMs: NaN, afterAddMs: NaN };
    let failure: unknown;
    try {
      for (const s of [a, b, c]) s.start();
      await Promise.all([a, b, c].map((s) => s.waitReady()));
      await measure('3 instances', [a, b, c], await waitSettled([a, b, c]));

      await b.kill('SIGKILL');
      killedAt = Date.now();
      const afterKill = await waitSettled([a, c]);
      recovery.afterKillMs = afterKill - killedAt;
      await measure('2 instances (one SIGKILLed)', [a, c], afterKill);

      d.start();
      addedAt = Date.now();
      await d.waitReady();
      const afterAdd = await waitSettled([a, c, d]);
      recovery.afterAddMs = afterAdd - addedAt;
      await measure('3 instances (one added)', [a, c, d], afterAdd);
    } catch (err) {
      failure = err;
    }
    const stoppedAt = Date.now();
    feeding = false;
    await feeder;

    const outcomes = await collectOutcomes(
      reader,
      topics.outcomes,
      requests.length,
      failure === undefined ? byMode(120_000, 300_000) : 10_000,
    );
    for (const s of [a, c, d]) await s.saveMetrics();
    await Promise.all([a, c, d].map((s) => s.kill('SIGTERM')));

    const { byRequest, withoutOutcome, twoOutcomeIds } = countOutcomes(requests, outcomes);
    const notAccepted = requests.filter((r) =>
      (byRequest.get(r.id) ?? []).every((o) => o.type !== 'sms.outbound.accepted'),
    ).length;
    const created = new Map<string, number>();
    for (const r of creates()) created.set(r.to!, (created.get(r.to!) ?? 0) + 1);
    const createdTwice = [...created.values()].filter((n) => n > 1).length;
    const neverCreated = recipients.filter((to) => !created.has(to)).length;
    const sentTwice = sim.inspect.duplicateCount();

    // The most creates in any SLIDING_MS window of the run (every 250 ms, while the load ran).
    const times = creates()
      .map((r) => r.at.getTime())
      .sort((x, y) => x - y);
    let most = 0;
    let mostAt = 0;
    for (let from = t0; from + SLIDING_MS <= stoppedAt; from += 250) {
      const n = times.filter((t) => t >= from && t < from + SLIDING_MS).length;
      if (n > most) [most, mostAt] = [n, from - t0];
    }
    const mostPerSec = most / (SLIDING_MS / 1000);

    const rateOk = phases.length === 3 && phases.every((p) => Math.abs(p.ratePerSec - LIMIT) <= LIMIT * TOLERANCE);
    const sharesOk = phases.length === 3 && phases.every((p) => Math.abs(p.shareSum - 1) <= TOLERANCE);
    const neverAbove = mostPerSec <= LIMIT * (1 + TOLERANCE);
    const crashes = services.reduce((n, s) => n + s.crashes, 0);
    const pass =
      failure === undefined &&
      withoutOutcome === 0 &&
      notAccepted === 0 &&
      twoOutcomeIds === 0 &&
      createdTwice === 0 &&
      neverCreated === 0 &&
      sentTwice === 0 &&
      rateOk &&
      sharesOk &&
      neverAbove &&
      crashes === 0;
    const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    writeRow({
      id: '5-scale-out',
      scenario: '5. Scale-out',
      load:
        `${requests.length} egress requests on Kafka (${PARTITIONS} partitions, ${QUEUED} kept waiting on each), ` +
        `account limit ${LIMIT}/s (TWILIO_RATE_LIMIT_BURST=${BURST}), 3 instances in one group, ` +
        `${WINDOW_MS / 1000} s windows` +
        (MODE === 'short' ? '; the long form measures 60 s windows' : ''),
      faults: `one of the 3 instances SIGKILLed (EGRESS_SESSION_TIMEOUT_SECS=${SESSION_SECS}), then a fourth started`,
      lost: `${withoutOutcome} without outcome; ${notAccepted} not accepted; ${neverCreated} never created`,
      duplicated: `${createdTwice} recipients created twice in the simulator (${sentTwice} duplicate sends); ${twoOutcomeIds} requests with two outcome ids`,
      crashes,
      recovery:
        `group settled ${s1(recovery.afterKillMs)} after the kill, ${s1(recovery.afterAddMs)} after the fourth instance started; ` +
        `create rate in the settled windows ${phases.map((p) => p.ratePerSec.toFixed(2)).join(', ')}/s ` +
        `(limit ${LIMIT}, ±${TOLERANCE * 100} %); shares summed ${phases.map((p) => p.shareSum.toFixed(3)).join(', ')}; ` +
        `most in any ${SLIDING_MS / 1000} s: ${mostPerSec.toFixed(2)}/s`,
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        phases,
        recovery,
        mostInSlidingWindow: { windowMs: SLIDING_MS, creates: most, perSec: mostPerSec, atMs: mostAt },
        killedAtMs: killedAt - t0,
        addedAtMs: addedAt - t0,
        stoppedAtMs: stoppedAt - t0,
        requests: requests.length,
        outcomeRecords: outcomes.length,
        messagesCreated: times.length,
        failure: failure === undefined ? undefined : String(failure),
      },
    });
    if (failure !== undefined) throw failure;
    expect(withoutOutcome).toBe(0);
    expect(notAccepted).toBe(0);
    expect(twoOutcomeIds).toBe(0);
    expect(createdTwice).toBe(0);
    expect(neverCreated).toBe(0);
    expect(sentTwice).toBe(0);
    // Three windows, each within ±5 % (closeTo's precision: 1 digit is < 0.05 for the shares, 0 is < 0.5 of 10/s).
    expect(phases.map((p) => p.shareSum)).toEqual([1, 1, 1].map((v) => expect.closeTo(v, 1)));
    expect(phases.map((p) => p.ratePerSec)).toEqual([LIMIT, LIMIT, LIMIT].map((v) => expect.closeTo(v, 0)));
    expect(sharesOk && rateOk).toBe(true);
    expect(mostPerSec).toBeLessThanOrEqual(LIMIT * (1 + TOLERANCE));
    expect(crashes).toBe(0);
  });
});
