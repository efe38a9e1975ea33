import { VoiceEnvelopeBuilder, type InternalEventV2 } from '../../src/envelope';
import { createEventPublisher } from '../../src/kafka/create-event-publisher';
import { silentLogger } from '../../src/observability';
import { onCleanup } from '../helpers/cleanup';
import { testConfig } from '../helpers/config';
import { startEgressBed } from '../helpers/egress-bed';
import { testBrokers } from '../helpers/kafka';
import { followTopics } from '../helpers/kafka-consumer';
import { brokerLabel } from './broker-label';
import { byMode, ensureBuilt, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(900_000);

const ACCOUNT = 'AC' + '3c'.repeat(16);
const TOKEN = 'rel-voice-egress-token-0123456789';
const CALLER_ID = '+14155550300';
const N = byMode(150, 500);
const callee = (i: number) => `+1415${String(6_000_000 + i).padStart(7, '0')}`;
/** Three fault kinds, each this likely: 1 - (1 - p)^3 = 20 % of Calls creates fault. */
const P_EACH = 1 - Math.cbrt(0.8);

/**
 * Scenario 2, voice variant. voice.call.requested on Kafka, the built service placing the calls through the
 * simulator's Calls API while 20 % of creates fail (429, 503, or the connection reset after the call was
 * created: the ambiguous case reconciled by listing calls), SIGKILLed twice and restarted: no call placed
 * twice, every request exactly one outcome.
 */
describe('reliability 2 (voice): egress crash with Twilio faults', () => {
  beforeAll(() => ensureBuilt());

  it(`places each of ${N} calls once through two SIGKILLs and 20 % faults`, async () => {
    const brokers = testBrokers();
    const { sim, topics, ...bed } = await startEgressBed(
      'rel-voice',
      {
        accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
        phoneNumbers: [{ phoneNumber: CALLER_ID, accountSid: ACCOUNT }],
        autoProgress: false,
        seed: 'rel-voice-egress',
      },
      brokers,
    );
    const calls = { resource: 'calls' as const, operation: 'create' as const };
    sim.faults.latency(20, { match: calls, jitterMs: 20 });
    sim.faults.rateLimit({ match: calls, probability: P_EACH, retryAfterSeconds: 0 });
    sim.faults.serverError({ match: calls, probability: P_EACH, status: 503 });
    sim.faults.connectionReset({ match: calls, probability: P_EACH, after: 'create' });
    const env = {
      ...bed.env,
      NODE_ENV: 'test',
      TWILIO_TIMEOUT_SECS: '2',
      TWILIO_PHONE_NUMBER: CALLER_ID,
      TWILIO_VOICE_CPS: '200',
    };
    const service = await ServiceProcess.create('voice-egress-crash', env);

    const producer = createEventPublisher(testConfig(env), { logger: silentLogger });
    onCleanup(() => producer.stop());
    await producer.start();
    const builder = new VoiceEnvelopeBuilder();
    const requests = Array.from({ length: N }, (_, i) =>
      builder.build('voice.call.requested', {
        accountSid: ACCOUNT,
        subject: callee(i),
        data: { to: callee(i), from: CALLER_ID, twiml: `<Response><Say>Reminder ${i}</Say></Response>` },
      }),
    );
    for (let i = 0; i < N; i += 500) await Promise.all(requests.slice(i, i + 500).map((r) => producer.publish(r)));

    const placed = () => sim.voice.calls({ direction: 'outbound-api' }).length;
    const recoveries: number[] = [];
    service.start();
    for (const at of [Math.floor(N / 3), Math.floor((2 * N) / 3)]) {
      const deadline = Date.now() + 300_000;
      while (placed() < at) {
        if (!service.running) throw new Error(`service exited:\n${service.output}`);
        if (Date.now() > deadline) throw new Error(`no progress:\n${service.output}`);
        await sleep(5);
      }
      await service.kill('SIGKILL');
      const down = Date.now();
      const before = placed();
      service.start();
      while (placed() <= before) await sleep(10);
      recoveries.push(Date.now() - down);
    }

    const reader = await followTopics([topics.outcomes, topics.egressDlq], { groupPrefix: 'rel-voice-reader' });
    const outcomes: InternalEventV2[] = [];
    await reader
      .until(
        topics.outcomes,
        (records) => {
          for (const r of records.slice(outcomes.length))
            outcomes.push(JSON.parse(r.value!.toString()) as InternalEventV2);
          return new Set(outcomes.map((o) => o.causationId)).size >= N;
        },
        byMode(120_000, 400_000),
      )
      .catch(() => undefined);
    await service.saveMetrics();
    await service.kill('SIGTERM');

    const byRequest = new Map<string, Set<string>>();
    for (const o of outcomes) byRequest.set(o.causationId!, (byRequest.get(o.causationId!) ?? new Set()).add(o.id));
    const withoutOutcome = requests.filter((r) => !byRequest.has(r.id)).length;
    const twoOutcomeIds = [...byRequest.values()].filter((s) => s.size > 1).length;
    const perCallee = new Map<string, number>();
    for (const c of sim.voice.calls({ direction: 'outbound-api' })) perCallee.set(c.to, (perCallee.get(c.to) ?? 0) + 1);
    const placedTwice = [...perCallee.values()].filter((n) => n > 1).length;
    const creates = sim.inspect.requests({ operation: 'create' }).filter((r) => r.resource === 'calls');
    const faulted = creates.filter((r) => r.fault !== undefined && r.fault !== 'latency').length;
    const count = (type: string) => outcomes.filter((o) => o.type === type).length;
    const pass = placedTwice === 0 && withoutOutcome === 0 && twoOutcomeIds === 0 && service.crashes === 0;
    writeRow({
      id: '2-voice-egress-crash',
      scenario: '2. Egress crash (voice)',
      load: `${N} voice.call.requested on Kafka, Twilio Calls create 20-40 ms`,
      faults: `SIGKILL + restart twice (at 1/3 and 2/3 placed); ${faulted} of ${creates.length} Calls creates faulted (429, 503, reset after create; 20 %)`,
      lost: `${withoutOutcome} without outcome`,
      duplicated: `${placedTwice} calls placed twice; ${twoOutcomeIds} requests with two outcome ids`,
      crashes: service.crashes,
      recovery: recoveries.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') + ' from kill to the next call placed',
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        callsPlaced: perCallee.size,
        outcomeRecords: outcomes.length,
        accepted: count('voice.call.accepted'),
        rejected: count('voice.call.rejected'),
        failed: count('voice.call.failed'),
        faultsByKind: Object.fromEntries(
          ['rate-limit', 'server-error', 'reset'].map((k) => [k, creates.filter((r) => r.fault === k).length]),
        ),
      },
    });
    expect(placedTwice).toBe(0);
    expect(withoutOutcome).toBe(0);
    expect(twoOutcomeIds).toBe(0);
    expect(service.crashes).toBe(0);
  });
});
