import type { Consumer } from 'kafkajs';
import { createStoppableConsumer } from '../../../src/kafka/stoppable-consumer';
import { onCleanup } from '../../helpers/cleanup';
import { eventsWithin, recordingKafka, type ConsumerEventName } from '../../helpers/consumer-events';
import { createTestTopic, isMockBroker, testKafka, uniqueName } from '../../helpers/kafka';

jest.setTimeout(60_000);

async function subscribed(topic: string): Promise<{ consumer: Consumer; events: ConsumerEventName[] }> {
  const { kafka, events } = recordingKafka();
  const consumer = createStoppableConsumer(kafka, {
    groupId: uniqueName('stoppable'),
    sessionTimeout: isMockBroker() ? 6000 : 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
    retry: { initialRetryTime: 100, maxRetryTime: 500, retries: 0 },
  });
  onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  return { consumer, events };
}

describe('createStoppableConsumer against the broker', () => {
  it('disconnect() while run() is still joining the group waits for the join, then stops the consumer', async () => {
    const { consumer, events } = await subscribed(await createTestTopic('stoppable'));
    // run() resolves once the group is joined (seconds on a new group): disconnect in the middle of it.
    const running = consumer.run({ eachBatch: async () => {} });
    await consumer.disconnect();
    await running;

    expect(events).toContain('GROUP_JOIN');
    expect(events.at(-1)).toBe('DISCONNECT');
    expect(await eventsWithin(events)).toEqual([]);
  });

  it('disconnect() while a crashed consumer rejoins waits for that join, then stops the consumer', async () => {
    const topic = await createTestTopic('stoppable');
    const producer = testKafka().producer();
    await producer.connect();
    onCleanup(() => producer.disconnect());
    await producer.send({ topic, messages: [{ value: 'boom' }] });
    const { consumer, events } = await subscribed(topic);
    let thrown = false;
    // The restarted consumer connects its group again (CONNECT) before it joins: disconnect in between.
    const rejoining = new Promise<void>((resolve) => {
      let crashed = false;
      consumer.on(consumer.events.CRASH, (e) => {
        crashed ||= (e.payload as { restart?: boolean }).restart === true;
      });
      consumer.on(consumer.events.CONNECT, () => {
        if (crashed) resolve();
      });
    });
    await consumer.run({
      eachBatch: async () => {
        if (thrown) return;
        thrown = true;
        // Retriable, and retries: 0: kafkajs crashes the consumer and restarts it.
        throw new Error('first batch fails');
      },
    });
    await rejoining;
    await consumer.disconnect();

    expect(events.at(-1)).toBe('DISCONNECT');
    expect(await eventsWithin(events)).toEqual([]);
    expect(events.filter((e) => e === 'GROUP_JOIN')).toHaveLength(2);
  });
});
