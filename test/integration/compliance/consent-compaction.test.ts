import { SmsEnvelopeBuilder, type EventOf } from '../../../src/envelope';
import { consentKey } from '../../../src/kafka/topics';
import { ConsentLoader, decodeJsonConsentRecord } from '../../../src/compliance/consent-loader';
import { ConsentStore } from '../../../src/compliance/consent-store';
import { onCleanup } from '../../helpers/cleanup';
import { createTestTopic, highWatermarks, testKafka } from '../../helpers/kafka';
import { apacheKafkaBrokers } from '../../helpers/kafka-cluster';
import { readToEnd, type ConsumedRecord } from '../../helpers/kafka-consumer';
import { waitFor } from '../../helpers/wait-for';
import { clockFrom } from '../../../src/common/clock';

jest.setTimeout(240_000);

const ACCOUNT = 'AC' + '0'.repeat(31) + '1';
const SENDER = '+14155550100';
const num = (i: number) => `+1415557${String(i).padStart(4, '0')}`;
const NUMBERS = 30;
const FLIPS = 6;
/** These numbers' keys end with a tombstone: compaction removes them, a loader forgets them. */
const TOMBSTONED = new Set([3, 7, 11, 19, 23]);
/** The final action of number i after its flips (opt_out first, then alternating, one extra for every third). */
const finalAction = (i: number) => (i % 3 === 0 ? 'opt_out' : 'opt_in');

let clock = Date.parse('2024-05-01T12:00:00.000Z');
const builder = new SmsEnvelopeBuilder(clockFrom(() => (clock += 1000)));
const consent = (action: 'opt_out' | 'opt_in', i: number): EventOf<'sms.consent.changed'> =>
  builder.consentChanged({
    accountSid: ACCOUNT,
    action,
    phoneNumber: num(i),
    scope: { kind: 'sender', sender: SENDER },
    via: 'keyword',
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sms.consent compaction on Apache Kafka', () => {
  it('keeps one record per key after many opt-out/opt-in flips, and a fresh loader rebuilds exactly the current list', async () => {
    const brokers = await apacheKafkaBrokers();
    const kafka = testKafka(brokers);
    // Small segments and an eager cleaner so compaction happens within the test (the broker checks every second).
    const topic = await createTestTopic(
      'ie-consent-compact',
      1,
      {
        'cleanup.policy': 'compact',
        'segment.ms': '200',
        'min.cleanable.dirty.ratio': '0.01',
        'min.compaction.lag.ms': '0',
        'delete.retention.ms': '100',
      },
      brokers,
    );
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onCleanup(() => producer.disconnect());
    const send = (messages: { key: string; value: string | null }[]) => producer.send({ topic, acks: -1, messages });
    /** A ConsentLoader (what a starting service runs) that has read the topic into `store`. */
    const loadInto = async (store: ConsentStore) => {
      const loader = new ConsentLoader({ kafka, topic, store, decode: decodeJsonConsentRecord, maxWaitTimeMs: 100 });
      onCleanup(() => loader.stop());
      await loader.start();
      return loader;
    };

    // Round r flips every number; each round lands in its own segment.
    const lastRecord = new Map<string, string>();
    let written = 0;
    for (let round = 0; round < FLIPS; round++) {
      const events: EventOf<'sms.consent.changed'>[] = [];
      for (let i = 0; i < NUMBERS; i++) {
        const last = round === FLIPS - 1;
        const action = last ? finalAction(i) : round % 2 === 0 ? 'opt_out' : 'opt_in';
        events.push(consent(action, i));
      }
      const messages = events.map((e) => ({ key: consentKey(e), value: JSON.stringify(e) }));
      await send(messages);
      written += messages.length;
      for (const m of messages) lastRecord.set(m.key, m.value);
      await sleep(250);
    }
    const tombstones = [...TOMBSTONED].map((i) => consentKey(consent('opt_out', i)));
    await send(tombstones.map((key) => ({ key, value: null })));
    written += tombstones.length;
    for (const key of tombstones) lastRecord.delete(key);

    // The state a loader reads from the uncompacted topic: the reference.
    const before = new ConsentStore();
    await (await loadInto(before)).stop();

    // The sentinel, written after a pause, rolls the segment before it so the cleaner may take that one
    // too. Tombstones go in a later cleaning pass (after delete.retention.ms), and a pass needs new dirty
    // segments: each check writes the sentinel again.
    const sentinel = consent('opt_out', 999);
    const sentinelRecord = { key: consentKey(sentinel), value: JSON.stringify(sentinel) };
    lastRecord.set(sentinelRecord.key, sentinelRecord.value);
    const expectedKeys = lastRecord.size;
    expect(expectedKeys).toBe(NUMBERS - TOMBSTONED.size + 1);
    expect(Number((await highWatermarks(topic, brokers)).get(0))).toBe(written);

    // Compacted: one record per live key, each the latest written, tombstones gone, offsets kept. Only copies
    // of the sentinel (the checks' own writes, not cleaned yet) may follow them. Each check reads the whole
    // topic up to its high watermark, by position (a reader that rejoins may hand a record over twice).
    let all: ConsumedRecord[] = [];
    let high = 0;
    let copies = 0;
    const readAll = async () => {
      high = Number((await highWatermarks(topic, brokers)).get(0));
      all = (await readToEnd({ topics: [topic], kafka, timeoutMs: 20_000 })).records;
      all.sort((a, b) => Number(a.offset) - Number(b.offset));
    };
    const live = () => all.slice(0, expectedKeys);
    const compacted = async () => {
      await sleep(250);
      await send([sentinelRecord]);
      copies++;
      await sleep(1000);
      await readAll();
      return (
        new Set(live().map((r) => r.key)).size === expectedKeys &&
        live().every((r) => r.value !== null) &&
        all.slice(expectedKeys).every((r) => r.key === sentinelRecord.key)
      );
    };
    const story = () =>
      `first ${expectedKeys} records end at offset ${live()[live().length - 1]?.offset}, high watermark ${high}, ` +
      `${all.length} records, ${new Set(all.map((r) => r.key)).size} keys, ` +
      `${all.filter((r) => r.value === null).length} tombstones, ${copies} sentinel copies written`;
    await waitFor(compacted, 90_000, () => `the log cleaner to compact the consent topic (${story()})`);
    // The cleaner goes on removing the older sentinel copies in the background (how many are left depends on
    // how busy it is, e.g. with the other tests' compacted topics). Without new writes it settles: the live keys,
    // then the one copy in the active segment, which is never cleaned. Wait for that, so that the fresh loader
    // below reads exactly these records.
    await waitFor(
      async () => {
        await readAll();
        return all.length === expectedKeys + 1;
      },
      60_000,
      () => `the log cleaner to remove the older sentinel copies (${story()})`,
    );
    expect(Number(all[all.length - 1]!.offset)).toBe(high - 1);
    expect(all[all.length - 1]!.key).toBe(sentinelRecord.key);
    const records = live();
    expect(new Set(records.map((r) => r.key)).size).toBe(expectedKeys);
    for (const r of records) expect(r.value?.toString('utf8')).toBe(lastRecord.get(r.key!));
    for (const key of tombstones) expect(all.some((r) => r.key === key)).toBe(false);

    // A fresh loader (a new instance of the service) rebuilds exactly the current opt-out list.
    const after = new ConsentStore();
    const fresh = await loadInto(after);
    const stats = fresh.stats;
    expect(stats.applied + stats.unchanged + stats.skipped + stats.removed).toBe(all.length);
    expect(stats.skipped).toBe(0);
    const optedOut = (store: ConsentStore) =>
      [...Array(NUMBERS).keys(), 999].filter((i) => store.isOptedOut(ACCOUNT, num(i), { from: SENDER }));
    const expected = [...Array(NUMBERS).keys()]
      .filter((i) => !TOMBSTONED.has(i) && finalAction(i) === 'opt_out')
      .concat(999);
    expect(optedOut(after)).toEqual(expected);
    expect(after.optedOutNumbers).toBe(expected.length);
    // The same list the uncompacted topic gave, plus the sentinel written after it.
    expect(optedOut(before)).toEqual(expected.filter((i) => i !== 999));
  });
});
