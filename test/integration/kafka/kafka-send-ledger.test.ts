import { KafkaSendLedger } from '../../../src/twilio/egress/kafka-send-ledger';
import { silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { eventsWithin, recordingKafka } from '../../helpers/consumer-events';
import { createTestTopic, isMockBroker, testKafka, uniqueName } from '../../helpers/kafka';
import { MemoryPublisher } from '../../helpers/memory-publisher';

jest.setTimeout(60_000);

describe('KafkaSendLedger against the broker', () => {
  it('stop() while the reader is still joining its group leaves no consumer behind', async () => {
    const { kafka, events } = recordingKafka();
    const ledger = new KafkaSendLedger({
      kafka,
      publisher: new MemoryPublisher(),
      topic: await createTestTopic('ledger'),
      groupIdPrefix: uniqueName('ledger-group'),
      instanceId: 'instance-1',
      logger: silentLogger,
      sessionTimeoutMs: isMockBroker() ? 6000 : 10_000,
    });
    onCleanup(() => ledger.stop());
    // start() does not wait for the join (seconds on a new group), so this stop comes in the middle of it.
    await ledger.start();
    await ledger.stop();

    expect(events.at(-1)).toBe('DISCONNECT');
    expect(await eventsWithin(events)).toEqual([]);
  });

  it('reads back at most maxEntries, and says from when on it may have forgotten (the bound, the retention)', async () => {
    const topic = await createTestTopic('ledger');
    const now = Date.now();
    const hour = 3_600_000;
    const record = (requestId: string, updatedAt: number) => ({
      key: `${requestId}|+14155550123`,
      value: JSON.stringify({
        v: 1,
        key: `${requestId}|+14155550123`,
        state: 'sent',
        requestId,
        recipient: '+14155550123',
        accountSid: 'AC' + '1'.repeat(32),
        attemptAt: updatedAt,
        owner: 'another-instance',
        updatedAt,
        messageSid: 'SM' + requestId.padStart(32, '0'),
      }),
      headers: { 'ledger-owner': 'another-instance' },
    });
    const kafka = testKafka();
    const producer = kafka.producer();
    await producer.connect();
    // One entry past the 2 h retention, then four within it: the bound keeps the last two.
    await producer.send({
      topic,
      messages: [
        record('1', now - 3 * hour),
        record('2', now - 50 * 60_000),
        record('3', now - 40 * 60_000),
        record('4', now - 30 * 60_000),
        record('5', now - 20 * 60_000),
      ],
    });
    await producer.disconnect();
    const stats: [number, number][] = [];
    const ledger = new KafkaSendLedger({
      kafka: testKafka(),
      publisher: new MemoryPublisher(),
      topic,
      groupIdPrefix: uniqueName('ledger-group'),
      instanceId: 'instance-1',
      logger: silentLogger,
      retentionMs: 2 * hour,
      maxEntries: 2,
      onStats: (entries, forgottenBefore) => stats.push([entries, forgottenBefore]),
      sessionTimeoutMs: isMockBroker() ? 6000 : 10_000,
    });
    onCleanup(() => ledger.stop());
    await ledger.start();
    await ledger.restore();

    expect(ledger.size).toBe(2);
    expect(['1', '2', '3', '4', '5'].map((r) => ledger.get(`${r}|+14155550123`)?.state)).toEqual([
      undefined,
      undefined,
      undefined,
      'sent',
      'sent',
    ]);
    expect(ledger.forgottenBefore()).toBe(now - 40 * 60_000);
    expect(stats.at(-1)).toEqual([2, now - 40 * 60_000]);
  });
});
