import { SmsEnvelopeBuilder } from '../../src/envelope';
import { createEventPublisher } from '../../src/kafka/create-event-publisher';
import { silentLogger } from '../../src/observability';
import { onCleanup } from '../helpers/cleanup';
import { testConfig } from '../helpers/config';
import { startEgressBed } from '../helpers/egress-bed';
import { testBrokers } from '../helpers/kafka';
import { followTopics } from '../helpers/kafka-consumer';
import { brokerLabel } from './broker-label';
import { collectOutcomes, countOutcomes } from './egress-outcomes';
import { byMode, ensureBuilt, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(900_000);

const ACCOUNT = 'AC' + '2b'.repeat(16);
const TOKEN = 'rel-egress-token-0123456789';
const SENDER = '+14155550200';
const N = byMode(1_000, 5_000);
const customer = (i: number) => `+1415${String(5_000_000 + i).padStart(7, '0')}`;

/**
 * Scenario 2. Egress requests on Kafka, the built service sending them through the simulator (20-40 ms per
 * create, so about a hundred are in flight at a kill), SIGKILLed twice and restarted: no SMS sent twice, every
 * request one outcome.
 */
describe('reliability 2: egress crash', () => {
  beforeAll(() => ensureBuilt());

  it(`sends each of ${N} requests once through two SIGKILLs`, async () => {
    const brokers = testBrokers();
    const { sim, topics, ...bed } = await startEgressBed(
      'rel-egress',
      {
        accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
        phoneNumbers: [{ phoneNumber: SENDER, accountSid: ACCOUNT }],
        autoProgress: false,
        seed: 'rel-egress',
      },
      brokers,
    );
    sim.faults.latency(20, { match: { operation: 'create' }, jitterMs: 20 });
    const env = { ...bed.env, NODE_ENV: 'test', TWILIO_TIMEOUT_SECS: '2' };
    const service = await ServiceProcess.create('egress-crash', env);

    const producer = createEventPublisher(testConfig(env), { logger: silentLogger });
    onCleanup(() => producer.stop());
    await producer.start();
    const builder = new SmsEnvelopeBuilder();
    const requests = Array.from({ length: N }, (_, i) =>
      builder.build('sms.outbound.requested', {
        accountSid: ACCOUNT,
        subject: customer(i),
        data: { to: customer(i), body: `body-canary egress ${i}` },
      }),
    );
    for (let i = 0; i < N; i += 500) await Promise.all(requests.slice(i, i + 500).map((r) => producer.publish(r)));

    const recoveries: number[] = [];
    service.start();
    for (const at of [Math.floor(N / 3), Math.floor((2 * N) / 3)]) {
      const deadline = Date.now() + 300_000;
      while (sim.inspect.stats().outbound < at) {
        if (!service.running) throw new Error(`service exited:\n${service.output}`);
        if (Date.now() > deadline) throw new Error(`no progress:\n${service.output}`);
        await sleep(5);
      }
      await service.kill('SIGKILL');
      const down = Date.now();
      const before = sim.inspect.stats().outbound;
      service.start();
      while (sim.inspect.stats().outbound <= before) await sleep(10);
      recoveries.push(Date.now() - down);
    }

    const reader = await followTopics([topics.outcomes, topics.egressDlq], { groupPrefix: 'rel-egress-reader' });
    const outcomes = await collectOutcomes(reader, topics.outcomes, N, byMode(240_000, 600_000));
    await service.saveMetrics();
    await service.kill('SIGTERM');

    const { withoutOutcome, twoOutcomeIds } = countOutcomes(requests, outcomes);
    const sentTwice = sim.inspect.duplicateCount();
    const accepted = outcomes.filter((o) => o.type === 'sms.outbound.accepted').length;
    const pass = sentTwice === 0 && withoutOutcome === 0 && twoOutcomeIds === 0 && service.crashes === 0;
    writeRow({
      id: '2-egress-crash',
      scenario: '2. Egress crash',
      load: `${N} egress requests on Kafka, Twilio create 20-40 ms`,
      faults: 'SIGKILL + restart twice (at 1/3 and 2/3 sent)',
      lost: `${withoutOutcome} without outcome`,
      duplicated: `${sentTwice} SMS sent twice; ${twoOutcomeIds} requests with two outcome ids`,
      crashes: service.crashes,
      recovery: recoveries.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') + ' from kill to the next send',
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        sentBySimulator: sim.inspect.stats().outbound,
        outcomeRecords: outcomes.length,
        acceptedRecords: accepted,
      },
    });
    expect(sentTwice).toBe(0);
    expect(withoutOutcome).toBe(0);
    expect(twoOutcomeIds).toBe(0);
    expect(service.crashes).toBe(0);
  });
});
