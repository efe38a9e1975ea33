import { KafkaSendLedger } from '../../../src/twilio/egress/kafka-send-ledger';
import { silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { eventsWithin, recordingKafka } from '../../helpers/consumer-events';
import { createTestTopic, isMockBroker, uniqueName } from '../../helpers/kafka';
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
});
