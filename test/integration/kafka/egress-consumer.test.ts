import { JsonEnvelopeCodec } from '../../../src/envelope';
import { DlqWriter } from '../../../src/egress/dlq-writer';
import { EgressConsumer } from '../../../src/egress/egress-consumer';
import { silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { eventsWithin, recordingKafka } from '../../helpers/consumer-events';
import { createTestTopic, isMockBroker, uniqueName } from '../../helpers/kafka';
import { MemoryPublisher } from '../../helpers/memory-publisher';

jest.setTimeout(60_000);

describe('EgressConsumer against the broker', () => {
  it('stop() while the consumer is still joining its group leaves no consumer behind', async () => {
    const { kafka, events } = recordingKafka();
    const consumer = new EgressConsumer({
      kafka,
      topic: await createTestTopic('egress'),
      groupId: uniqueName('egress-group'),
      codec: new JsonEnvelopeCodec(),
      router: { egressHandlerFor: () => undefined, list: () => [] },
      dlq: new DlqWriter(new MemoryPublisher(), uniqueName('egress-dlq')),
      logger: silentLogger,
      sessionTimeoutMs: isMockBroker() ? 6000 : 10_000,
    });
    onCleanup(() => consumer.stop());
    // start() does not wait for the join (seconds on a new group), so this stop comes in the middle of it.
    await consumer.start();
    expect(consumer.hasJoined).toBe(false);
    await consumer.stop();

    expect(events.at(-1)).toBe('DISCONNECT');
    expect(await eventsWithin(events)).toEqual([]);
  });
});
