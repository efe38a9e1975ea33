import { freePort } from '@ingress-egress/sandbox';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { onCleanup } from '../helpers/cleanup';
import { createTestTopics, recordCount, testBrokers, topicEnv, uniqueName } from '../helpers/kafka';
import { readRecords } from '../helpers/kafka-consumer';
import { brokerLabel } from './broker-label';
import { byMode, ensureBuilt, pool, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(900_000);

const ACCOUNT = 'AC' + '1a'.repeat(16);
const TOKEN = 'rel-ingress-token-0123456789';
const BUSINESS = '+15557651000';
const N = byMode(1_500, 10_000);
/** Webhooks per second (the kills land while they keep coming). */
const RATE = byMode(50, 200);
const phone = (i: number) => `+1415${String(4_000_000 + (i % 5_000)).padStart(7, '0')}`;

/**
 * Scenario 1. Signed inbound webhooks from the simulator (which retries as Twilio does: the URL's connection
 * overrides, here up to 5 retries on connect failures, read timeouts and 5xx) while the built service is
 * SIGKILLed and restarted twice on the same port. Every webhook answered 2xx must be on Kafka; a webhook
 * there twice must carry the same event id both times.
 */
describe('reliability 1: ingress crash', () => {
  beforeAll(() => ensureBuilt());

  it(`keeps every acknowledged webhook of ${N} through two SIGKILLs`, async () => {
    const brokers = testBrokers();
    const topics = await createTestTopics('rel-ingress', brokers);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [{ phoneNumber: BUSINESS, smsUrl: `${base}/webhooks/twilio/sms#rc=5&rp=ct,rt,5xx&tt=15000` }],
      seed: 'rel-ingress',
    });
    onCleanup(() => sim.stop());
    await sim.start();
    const service = await ServiceProcess.create(
      'ingress-crash',
      {
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_GROUP_ID: uniqueName('rel-ingress'),
        ...topicEnv(topics),
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_API_BASE_URL: sim.baseUrl,
        TWILIO_WEBHOOK_BASE_URL: base,
        TWILIO_PHONE_NUMBER: BUSINESS,
      },
      port,
    );
    service.start();
    await service.waitReady();

    const acknowledged = new Set<string>();
    let undelivered = 0;
    let sent = 0;
    const recoveries: number[] = [];
    const killer = (async () => {
      for (const at of [Math.floor(N / 3), Math.floor((2 * N) / 3)]) {
        while (sent < at) await sleep(20);
        await service.kill('SIGKILL');
        const down = Date.now();
        await sleep(1_000);
        service.start();
        await service.waitReady();
        recoveries.push(Date.now() - down);
      }
    })();
    const t0 = Date.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      32,
      async (i) => {
        const due = t0 + (i * 1000) / RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        sent++;
        const r = await sim.sendInbound({ from: phone(i), to: BUSINESS, body: `body-canary ${i}` });
        if (r.delivered) acknowledged.add(r.messageSid);
        else undelivered++;
      },
    );
    await killer;
    await sim.idle();

    // Everything the topic holds (records of webhooks whose answer the kill cut off are there too).
    const total = await recordCount(topics.inbound, brokers);
    const records = await readRecords({ topics: [topics.inbound], count: total, timeoutMs: 120_000 });
    const ids = new Map<string, Set<string>>();
    for (const r of records) {
      const e = JSON.parse(r.value!.toString('utf8')) as { id: string; data: { messageSid: string } };
      const set = ids.get(e.data.messageSid) ?? new Set<string>();
      set.add(e.id);
      ids.set(e.data.messageSid, set);
    }
    const lost = [...acknowledged].filter((sid) => !ids.has(sid)).length;
    const duplicated = records.length - ids.size;
    const duplicatesWithOtherIds = [...ids.values()].filter((s) => s.size > 1).length;
    await service.saveMetrics();
    await service.kill('SIGTERM');
    const pass = lost === 0 && duplicatesWithOtherIds === 0 && service.crashes === 0 && acknowledged.size >= N / 4;
    writeRow({
      id: '1-ingress-crash',
      scenario: '1. Ingress crash',
      load: `${N} signed inbound webhooks, ${RATE}/s, up to 32 in flight (simulator retries: rc=5 on connect/read/5xx)`,
      faults: 'SIGKILL + restart twice (at 1/3 and 2/3)',
      lost,
      duplicated: `${duplicated} (same id: ${duplicated > 0 ? duplicated - duplicatesWithOtherIds : 0}, other id: ${duplicatesWithOtherIds})`,
      crashes: service.crashes,
      recovery: recoveries.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') + ' to ready after each kill',
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        acknowledged: acknowledged.size,
        undeliveredAfterTwilioRetries: undelivered,
        recordsOnKafka: records.length,
      },
    });
    expect(lost).toBe(0);
    expect(duplicatesWithOtherIds).toBe(0);
    expect(service.crashes).toBe(0);
    // Twilio gives up on a webhook whose retries all fail (error 11200): those sent while the service was down.
    expect(acknowledged.size).toBeGreaterThanOrEqual(N / 4);
  });
});
