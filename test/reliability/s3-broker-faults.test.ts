import { SmsEnvelopeBuilder, type InternalEventV2 } from '../../src/envelope';
import { freePort } from '@ingress-egress/sandbox';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { onCleanup } from '../helpers/cleanup';
import { startOwnCluster, type TestCluster } from '../helpers/kafka-cluster';
import { createTestTopics, testKafka, topicEnv, uniqueName } from '../helpers/kafka';
import { readToEnd } from '../helpers/kafka-consumer';
import { brokerLabel } from './broker-label';
import { byMode, ensureBuilt, MODE, ServiceProcess, sleep, writeRow } from './harness';
import { readinessRecovery } from './readiness-recovery';

jest.setTimeout(1_800_000);

const ACCOUNT = 'AC' + '3d'.repeat(16);
const TOKEN = 'rel-broker-token-0123456789';
const BUSINESS = '+15557653000';
const RATE = byMode(20, 50);

interface Fault {
  id: string;
  name: string;
  brokers: 1 | 3;
  inject(cluster: TestCluster, topic: string): Promise<void>;
  /** Whether the cluster as a whole is unavailable during the fault (readiness must then turn false). */
  outage: boolean;
}

const FAULTS: Fault[] = [
  {
    id: 'freeze',
    name: 'broker frozen (SIGSTOP) 15 s',
    brokers: 1,
    outage: true,
    inject: async (c) => {
      await c.node('freeze', 1);
      await sleep(15_000);
      await c.node('thaw', 1);
    },
  },
  {
    id: 'kill',
    name: 'broker SIGKILLed, restarted after 10 s',
    brokers: 1,
    outage: true,
    inject: async (c) => {
      await c.node('kill', 1);
      await sleep(10_000);
      await c.node('start', 1);
    },
  },
  {
    id: 'leader',
    name: 'partition leader SIGKILLed in a 3-broker cluster, restarted after 10 s',
    brokers: 3,
    outage: false,
    inject: async (c, topic) => {
      const leader = await c.leaderOf(topic, 0);
      await c.node('kill', leader);
      await sleep(10_000);
      await c.node('start', leader);
    },
  },
];
// RELIABILITY_S3_FAULTS=leader,kill picks faults by id (for reproducing one); otherwise the mode decides.
const PICK = process.env.RELIABILITY_S3_FAULTS?.split(',');
const RUN = PICK
  ? FAULTS.filter((f) => PICK.includes(f.id))
  : MODE === 'long'
    ? FAULTS
    : FAULTS.filter((f) => f.id === 'freeze');

/**
 * Scenario 3. Each broker fault under ingress (signed webhooks from the simulator) and egress (requests on
 * Kafka) load at once: no acknowledged webhook or written request lost, egress resumes by itself, and
 * /readyz (polled every 250 ms) tells the truth: false while the only broker is away, true again after.
 */
describe('reliability 3: broker faults', () => {
  beforeAll(() => ensureBuilt());

  it.each(RUN.map((f) => [f.name, f] as const))('%s', async (_name, fault) => {
    const cluster = await startOwnCluster({ brokers: fault.brokers });
    const topics = await createTestTopics(`rel-broker-${fault.id}`, cluster.brokers);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [{ phoneNumber: BUSINESS, smsUrl: `${base}/webhooks/twilio/sms#rc=3&rp=ct,rt,5xx` }],
      autoProgress: false,
      seed: `rel-broker-${fault.id}`,
    });
    onCleanup(() => sim.stop());
    await sim.start();
    const service = await ServiceProcess.create(
      `broker-${fault.id}`,
      {
        ...sim.env(),
        TWILIO_RATE_LIMIT_PER_SEC: '100000',
        TWILIO_RATE_LIMIT_BURST: '100000',
        TWILIO_PER_NUMBER_RATE: '100000',
        TWILIO_PER_NUMBER_BURST: '100000',
        TWILIO_AUTH_TOKEN: TOKEN,
        KAFKA_BROKERS: cluster.brokers.join(','),
        KAFKA_GROUP_ID: uniqueName(`rel-broker-${fault.id}`),
        ...topicEnv(topics),
        TWILIO_WEBHOOK_BASE_URL: base,
        TWILIO_PHONE_NUMBER: BUSINESS,
        EGRESS_SESSION_TIMEOUT_SECS: '10',
      },
      port,
    );
    service.start();
    await service.waitReady();
    await service.waitEgressAssigned();

    // Readiness timeline.
    const t0 = Date.now();
    const timeline: { atMs: number; readyz: number }[] = [];
    let polling = true;
    const poller = (async () => {
      let last = -1;
      while (polling) {
        const s = await service.readiness();
        if (s !== last) timeline.push({ atMs: Date.now() - t0, readyz: s });
        last = s;
        await sleep(250);
      }
    })();

    // Load: webhooks and egress requests at RATE/s each until told to stop.
    const producer = testKafka(cluster.brokers).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    onCleanup(() => producer.disconnect());
    const builder = new SmsEnvelopeBuilder();
    const acknowledged = new Set<string>();
    const written: InternalEventV2[] = [];
    let webhooksFailed = 0;
    let writesFailed = 0;
    let loading = true;
    const jobs: Promise<unknown>[] = [];
    const load = (async () => {
      for (let i = 0; loading; i++) {
        const due = t0 + (i * 1000) / RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        jobs.push(
          sim
            .sendInbound({
              from: `+1415888${String(i % 10_000).padStart(4, '0')}`,
              to: BUSINESS,
              body: `body-canary ${i}`,
            })
            .then((r) => {
              if (r.delivered) acknowledged.add(r.messageSid);
              else webhooksFailed++;
            }),
        );
        const req = builder.build('sms.outbound.requested', {
          accountSid: ACCOUNT,
          subject: `+1415999${String(i).padStart(4, '0')}`,
          data: { to: `+1415999${String(i).padStart(4, '0')}`, body: `body-canary egress ${i}` },
        });
        jobs.push(
          producer
            .send({
              topic: topics.egress,
              acks: -1,
              timeout: 5_000,
              messages: [{ key: req.subject!, value: JSON.stringify(req) }],
            })
            .then(
              () => written.push(req),
              () => writesFailed++,
            ),
        );
      }
    })();

    await sleep(10_000);
    const faultAt = Date.now() - t0;
    await fault.inject(cluster, topics.inbound);
    const faultEnd = Date.now() - t0;
    const sentAtFaultEnd = sim.inspect.stats().outbound;
    await sleep(15_000);
    loading = false;
    await load;
    await Promise.allSettled(jobs);

    // Egress resumes by itself: every written request gets its outcome. Reads go to the end of each partition
    // (every position once): counting deliveries stops early when the reader is handed records again.
    const outcomesBy = Date.now() + 180_000;
    const causes = new Set<string>();
    while (Date.now() < outcomesBy) {
      const { records } = await readToEnd({
        topics: [topics.outcomes],
        timeoutMs: 60_000,
        kafka: testKafka(cluster.brokers),
      });
      for (const r of records) causes.add((JSON.parse(r.value!.toString()) as InternalEventV2).causationId!);
      if (written.every((w) => causes.has(w.id))) break;
      await sleep(2_000);
    }
    const firstSendAfter = sim.inspect
      .sent({})
      .map((m) => m.dateCreated.getTime())
      .filter((t) => t - (t0 + faultEnd) >= 0)
      .sort((a, b) => a - b)[0];
    const egressRecoveryMs = firstSendAfter !== undefined ? firstSendAfter - (t0 + faultEnd) : NaN;
    void sentAtFaultEnd;

    const sidOf = (r: { value: Buffer | null }) =>
      (JSON.parse(r.value!.toString()) as { data: { messageSid: string } }).data.messageSid;
    const inboundRead = await readToEnd({
      topics: [topics.inbound],
      timeoutMs: 120_000,
      kafka: testKafka(cluster.brokers),
    });
    const onKafka = new Set(inboundRead.records.map(sidOf));
    const lostSids = [...acknowledged].filter((s) => !onKafka.has(s));
    const webhooksLost = lostSids.length;
    const egressWithoutOutcome = written.filter((w) => !causes.has(w.id)).length;
    const sentTwice = sim.inspect.duplicateCount();
    polling = false;
    await poller;
    await service.saveMetrics();
    await service.kill('SIGTERM');

    const duringFault = timeline.filter((t) => t.atMs >= faultAt && t.atMs <= faultEnd + 1_000);
    const notReadyDuringFault =
      duringFault.some((t) => t.readyz !== 200) ||
      timeline.some((t, i) => t.readyz !== 200 && t.atMs < faultEnd && (timeline[i + 1]?.atMs ?? Infinity) > faultAt);
    const readyAtEnd = timeline[timeline.length - 1]?.readyz === 200;
    const readinessTruthful = (fault.outage ? notReadyDuringFault : true) && readyAtEnd;
    const pass =
      webhooksLost === 0 && egressWithoutOutcome === 0 && sentTwice === 0 && readinessTruthful && service.crashes === 0;
    writeRow({
      id: `3-broker-faults-${fault.id}`,
      scenario: `3. Broker faults: ${fault.name}`,
      load: `${RATE} signed webhooks/s + ${RATE} egress requests/s, 10 s before, through and 15 s after the fault`,
      faults: fault.name,
      lost: `${webhooksLost} acknowledged webhooks, ${egressWithoutOutcome} written requests without outcome`,
      duplicated: `${sentTwice} SMS sent twice`,
      crashes: service.crashes,
      recovery: `egress sending ${(egressRecoveryMs / 1000).toFixed(1)} s after the fault ended; ${readinessRecovery(
        timeline,
        faultAt,
        faultEnd,
      )}`,
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(cluster.brokers),
      details: {
        faultFromMs: faultAt,
        faultToMs: faultEnd,
        readinessTimeline: timeline,
        readinessFalseDuringFault: notReadyDuringFault,
        webhooksAcknowledged: acknowledged.size,
        webhooksNotAcknowledged: webhooksFailed,
        egressWritten: written.length,
        egressWritesRefusedByBroker: writesFailed,
        inboundPositionsRead: inboundRead.records.length,
        inboundRedeliveredToReader: inboundRead.redelivered,
        lost: lostSids.slice(0, 20).map((sid) =>
          sim.inspect.webhooks({ messageSid: sid }).map((d) => ({
            startedMs: d.startedAt.getTime() - t0,
            attempts: d.attempts.map((x) => `${x.status ?? x.error ?? '?'} after ${x.durationMs} ms`),
          })),
        ),
      },
    });
    expect(webhooksLost).toBe(0);
    expect(egressWithoutOutcome).toBe(0);
    expect(sentTwice).toBe(0);
    expect(readinessTruthful).toBe(true);
    expect(service.crashes).toBe(0);
  });
});
