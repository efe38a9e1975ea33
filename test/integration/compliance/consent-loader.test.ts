import type { Producer } from 'kafkajs';
import { SmsEnvelopeBuilder, type ConsentScope, type EventOf } from '../../../src/envelope';
import { consentKey } from '../../../src/kafka/topics';
import { ConsentLoader, decodeJsonConsentRecord } from '../../../src/compliance/consent-loader';
import { ConsentStore } from '../../../src/compliance/consent-store';
import { onCleanup } from '../../helpers/cleanup';
import { createTestTopic, isMockBroker, testKafka } from '../../helpers/kafka';
import { clockFrom } from '../../../src/common/clock';

jest.setTimeout(60_000);

const ACCOUNT = 'AC' + '0'.repeat(31) + '1';
const MG = 'MG' + '0'.repeat(31) + '2';
const A = '+14155550100';
const B = '+14155550101';
const num = (i: number) => `+1415556${String(i).padStart(4, '0')}`;

let clock = Date.parse('2024-05-01T12:00:00.000Z');
const builder = new SmsEnvelopeBuilder(clockFrom(() => (clock += 1000)));

function consent(action: 'opt_out' | 'opt_in' | 'help', phoneNumber: string, scope: ConsentScope) {
  return builder.consentChanged({ accountSid: ACCOUNT, action, phoneNumber, scope, via: 'keyword' });
}

async function connectedProducer(): Promise<Producer> {
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  onCleanup(() => producer.disconnect());
  return producer;
}

/** Resolves with where the first record landed. */
async function publish(
  producer: Producer,
  topic: string,
  events: EventOf<'sms.consent.changed'>[],
): Promise<{ partition: number; offset: string }> {
  const [first] = await producer.send({
    topic,
    acks: -1,
    messages: events.map((e) => ({ key: consentKey(e), value: JSON.stringify(e) })),
  });
  return { partition: first?.partition ?? -1, offset: first?.baseOffset ?? '-1' };
}

function startLoader(topic: string, store = new ConsentStore()) {
  const loader = new ConsentLoader({
    kafka: testKafka(),
    topic,
    store,
    decode: decodeJsonConsentRecord,
    sessionTimeoutMs: isMockBroker() ? 6000 : 10_000,
    maxWaitTimeMs: 100,
  });
  onCleanup(() => loader.stop());
  return { loader, store };
}

async function eventually(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The lookups the tests compare between a store and its rebuilt twin. */
function snapshot(store: ConsentStore): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < 60; i++) {
    for (const ctx of [{ from: A }, { from: B }, { messagingServiceSid: MG }, {}]) {
      out.push(store.isOptedOut(ACCOUNT, num(i), ctx));
    }
  }
  return out;
}

describe('ConsentLoader against the broker', () => {
  it('catches up with the topic, skips bad records, keeps following, and a restart rebuilds the same state', async () => {
    const topic = await createTestTopic('ie-consent');
    const producer = await connectedProducer();

    const history: EventOf<'sms.consent.changed'>[] = [];
    for (let i = 0; i < 40; i++) history.push(consent('opt_out', num(i), { kind: 'sender', sender: A }));
    history.push(consent('opt_out', num(40), { kind: 'messaging_service', messagingServiceSid: MG }));
    history.push(consent('opt_out', num(41), { kind: 'account' }));
    history.push(consent('opt_in', num(41), { kind: 'sender', sender: B }));
    history.push(consent('help', num(42), { kind: 'sender', sender: A }));
    // Opted out, then back in: the latest record of the key wins.
    for (let i = 0; i < 5; i++) history.push(consent('opt_in', num(i), { kind: 'sender', sender: A }));
    await publish(producer, topic, history);
    await producer.send({
      topic,
      messages: [
        { key: 'junk', value: 'not json at all' },
        { key: 'junk2', value: JSON.stringify({ specVersion: '2', type: 'sms.consent.changed' }) },
      ],
    });

    const { loader, store } = startLoader(topic);
    expect(loader.ready).toBe(false);
    const first = loader.start();
    expect(loader.start()).toBe(first);
    await first;
    expect(loader.ready).toBe(true);
    expect(loader.state).toBe('ready');
    expect(loader.stats).toMatchObject({ skipped: 2 });

    expect(store.isOptedOut(ACCOUNT, num(0), { from: A })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, num(5), { from: A })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, num(39), { from: A })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, num(39), { from: B })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, num(40), { messagingServiceSid: MG })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, num(40), { from: A })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, num(41), { from: A })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, num(41), { from: B })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, num(42), { from: A })).toBe(false);
    expect(store.optedOutNumbers).toBe(37);

    // Kept current while running: a new opt-out and an opt-in arrive.
    await publish(producer, topic, [
      consent('opt_out', num(50), { kind: 'sender', sender: B }),
      consent('opt_in', num(39), { kind: 'sender', sender: A }),
    ]);
    await eventually(() => store.isOptedOut(ACCOUNT, num(50), { from: B }));
    await eventually(() => !store.isOptedOut(ACCOUNT, num(39), { from: A }));
    const before = snapshot(store);

    await loader.stop();
    await loader.stop();
    expect(loader.state).toBe('stopped');
    await expect(loader.start()).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });

    // A restart (fresh process: fresh store) rebuilds the same state from the topic.
    const again = startLoader(topic);
    await again.loader.start();
    expect(snapshot(again.store)).toEqual(before);
    expect(again.store.optedOutNumbers).toBe(store.optedOutNumbers);
    expect(again.loader.stats.skipped).toBe(2);
  });

  it('is ready at once on an empty topic and still follows it', async () => {
    const topic = await createTestTopic('ie-consent-empty');
    const { loader, store } = startLoader(topic);
    await loader.start();
    expect(loader.ready).toBe(true);
    expect(store.size).toBe(0);

    const producer = await connectedProducer();
    await publish(producer, topic, [consent('opt_out', num(1), { kind: 'account' })]);
    await eventually(() => store.isOptedOut(ACCOUNT, num(1), { from: A }));
  });

  it('a tombstone forgets its key', async () => {
    const topic = await createTestTopic('ie-consent-tomb');
    const producer = await connectedProducer();
    const optOut = consent('opt_out', num(7), { kind: 'sender', sender: A });
    await publish(producer, topic, [optOut]);
    await producer.send({ topic, messages: [{ key: consentKey(optOut), value: null }] });

    const { loader, store } = startLoader(topic);
    await loader.start();
    expect(store.isOptedOut(ACCOUNT, num(7), { from: A })).toBe(false);
    expect(loader.stats).toMatchObject({ applied: 1, removed: 1 });
  });

  it('applies a consent change this process published at once (read-your-writes)', async () => {
    const topic = await createTestTopic('ie-consent-own');
    const { loader, store } = startLoader(topic);
    await loader.start();
    const producer = await connectedProducer();
    const optOut = consent('opt_out', num(20), { kind: 'sender', sender: A });
    const acked = await publish(producer, topic, [optOut]);
    // Whether or not the loader has fetched it yet, once applyOwn returns the store says so.
    loader.applyOwn(optOut, acked);
    expect(store.isOptedOut(ACCOUNT, num(20), { from: A })).toBe(true);

    // Before the loader has read anything, an acknowledged change is applied; an unknown offset is not.
    const idle = startLoader(topic);
    const optIn = consent('opt_in', num(21), { kind: 'account' });
    expect(idle.loader.applyOwn(consent('opt_out', num(21), { kind: 'account' }), { partition: 0, offset: '-1' })).toBe(
      false,
    );
    expect(idle.loader.applyOwn(consent('opt_out', num(22), { kind: 'account' }), { partition: 0, offset: '5' })).toBe(
      true,
    );
    expect(idle.store.isOptedOut(ACCOUNT, num(22))).toBe(true);
    expect(idle.loader.applyOwn(optIn, { partition: 0, offset: '6' })).toBe(false); // nothing to opt back in
  });

  it('never applies its own older change over a newer record it has already read', async () => {
    const topic = await createTestTopic('ie-consent-own-old');
    const { loader, store } = startLoader(topic);
    await loader.start();
    const producer = await connectedProducer();
    const optOut = consent('opt_out', num(23), { kind: 'sender', sender: A });
    const optIn = consent('opt_in', num(23), { kind: 'sender', sender: A });
    const first = await publish(producer, topic, [optOut]);
    await publish(producer, topic, [optIn]);
    await eventually(() => loader.stats.applied === 2);
    expect(store.isOptedOut(ACCOUNT, num(23), { from: A })).toBe(false);
    // The opt-out's acknowledgement arriving late (a slow publish) must not undo the opt-in read since.
    expect(loader.applyOwn(optOut, first)).toBe(false);
    expect(store.isOptedOut(ACCOUNT, num(23), { from: A })).toBe(false);
  });

  it('stop() before catching up rejects start() and leaves the loader stopped', async () => {
    const topic = await createTestTopic('ie-consent-stop');
    const producer = await connectedProducer();
    await publish(producer, topic, [consent('opt_out', num(8), { kind: 'sender', sender: A })]);
    const { loader } = startLoader(topic);
    const started = loader.start();
    await loader.stop();
    await expect(started).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
    expect(loader.ready).toBe(false);
    expect(loader.state).toBe('stopped');
  });
});
