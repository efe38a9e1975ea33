import { JsonEnvelopeCodec, type InternalEventV2 } from '../../../src/envelope';
import type { EgressContext, EgressHandler } from '../../../src/connector';
import { DlqWriter } from '../../../src/egress/dlq-writer';
import { EgressConsumer } from '../../../src/egress/egress-consumer';
import { createLogger, silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { eventsWithin, recordingKafka } from '../../helpers/consumer-events';
import { createTestTopic, isMockBroker, testKafka, uniqueName } from '../../helpers/kafka';
import { sampleEnvelopes } from '../../helpers/envelopes';
import { waitFor } from '../../helpers/wait-for';
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

  it('names EGRESS_SESSION_TIMEOUT_SECS in one error line, and is not ready, when the broker refuses the session timeout', async () => {
    const lines: { level: number; msg: string; sessionTimeoutSecs?: number }[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (l: string) => void lines.push(JSON.parse(l)) },
    });
    const consumer = new EgressConsumer({
      kafka: testKafka(),
      topic: await createTestTopic('egress'),
      groupId: uniqueName('egress-group'),
      codec: new JsonEnvelopeCodec(),
      router: { egressHandlerFor: () => undefined, list: () => [] },
      dlq: new DlqWriter(new MemoryPublisher(), uniqueName('egress-dlq')),
      logger,
      // Below the broker's group.min.session.timeout.ms (6 s by default).
      sessionTimeoutMs: 2_000,
    });
    onCleanup(() => consumer.stop());
    await consumer.start();
    const named = () => lines.filter((l) => l.msg.startsWith('EGRESS_SESSION_TIMEOUT_SECS is outside the range'));
    await waitFor(() => named().length > 0, 20_000, 'the session timeout error');
    expect(named()[0]).toMatchObject({ level: 50, sessionTimeoutSecs: 2 });
    expect(consumer.isReady()).toBe(false);
    expect(consumer.hasJoined).toBe(false);
  });
});

/** An egress consumer in `groupId` on `topic` handing every record to `handler`, batches detached after 1 s. */
function detachingConsumer(topic: string, groupId: string, handler: EgressHandler): EgressConsumer {
  const consumer = new EgressConsumer({
    kafka: testKafka(),
    topic,
    groupId,
    codec: new JsonEnvelopeCodec(),
    router: { egressHandlerFor: () => handler, list: () => [{ egress: handler }] },
    dlq: new DlqWriter(new MemoryPublisher(), uniqueName('egress-dlq')),
    logger: silentLogger,
    sessionTimeoutMs: 10_000,
    detachAfterMs: 1_000,
  });
  onCleanup(() => consumer.stop());
  return consumer;
}

/** Writes an egress request with this correlation id (also its key) to one partition of `topic`. */
async function requestSender(topic: string): Promise<(partition: number, correlationId: string) => Promise<unknown>> {
  const codec = new JsonEnvelopeCodec();
  const request = sampleEnvelopes()['sms.outbound.requested'];
  const producer = testKafka().producer();
  await producer.connect();
  onCleanup(() => producer.disconnect());
  return async (partition, correlationId) =>
    producer.send({
      topic,
      messages: [{ partition, key: correlationId, value: await codec.encode({ ...request, correlationId }) }],
    });
}

describe('EgressConsumer with one record that hangs', () => {
  it('keeps handling the other partitions while one partition waits on a hung record, then commits both', async () => {
    const topic = await createTestTopic('egress-hang', 2);
    const groupId = uniqueName('egress-hang-group');
    const handled: string[] = [];
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const handler = {
      handle: async (event: InternalEventV2, ctx: EgressContext) => {
        if (event.correlationId === 'hang') {
          handled.push(`started ${event.correlationId}`);
          // Like a Twilio create that does not answer: it ends only when released (or the consumer stops).
          await Promise.race([hung, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
        }
        handled.push(event.correlationId ?? '');
      },
    };
    const consumer = detachingConsumer(topic, groupId, handler);
    const send = await requestSender(topic);

    await consumer.start();
    await send(0, 'hang');
    await waitFor(() => handled.includes('started hang'), 30_000, 'the hung record to start');
    for (let i = 0; i < 3; i++) await send(1, `p1-${i}`);
    // Before: the consumer fetched nothing more until the hung record ended (a Twilio timeout, 30 s by default).
    await waitFor(() => handled.filter((h) => h.startsWith('p1-')).length === 3, 10_000, 'partition 1 records');
    expect(handled).not.toContain('hang');

    release();
    await waitFor(() => handled.includes('hang'), 10_000, 'the hung record to end');
    await send(0, 'after');
    await waitFor(() => handled.includes('after'), 10_000, 'partition 0 to go on after the hung record');
    await consumer.stop();

    const admin = testKafka().admin();
    await admin.connect();
    onCleanup(() => admin.disconnect());
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed[0]?.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual(['2', '3']);
    expect(handled.filter((h) => h === 'hang')).toHaveLength(1);
  });

  it('a rebalance does not wait for a detached batch: it starts nothing more there, and the new owner takes over', async () => {
    const topic = await createTestTopic('egress-hang-rebalance', 2);
    const groupId = uniqueName('egress-hang-group');
    const seen: string[] = [];
    let abortedHang = false;
    const handler = (who: string) => ({
      handle: async (event: InternalEventV2, ctx: EgressContext) => {
        const id = event.correlationId ?? '';
        seen.push(`${who} ${id}`);
        if (id === 'hang' && who === 'a') {
          await new Promise((r) => ctx.signal.addEventListener('abort', r));
          abortedHang = true;
          // Left unfinished, as a handler does when aborted before Twilio: the record is redelivered.
          throw Object.assign(new Error('aborted'), { retriable: true });
        }
      },
    });
    const consumerOf = (who: string) => detachingConsumer(topic, groupId, handler(who));
    const send = await requestSender(topic);

    const a = consumerOf('a');
    await a.start();
    await waitFor(() => a.hasJoined, 30_000, 'a to join');
    await send(0, 'hang');
    await send(1, 'hang');
    await waitFor(() => seen.filter((s) => s === 'a hang').length === 2, 30_000, 'both hung records to start');
    await waitFor(() => a.stats().detachedPartitions === 2, 10_000, 'both batches to detach');

    // A second member joins: the rebalance is not held back by the hung records (before: up to the hang's end).
    const b = consumerOf('b');
    await b.start();
    await waitFor(() => b.hasJoined && abortedHang, 30_000, 'b to join and the hung records to be aborted');
    await waitFor(() => a.stats().detachedPartitions === 0, 10_000, 'the detached batches to end');
    // Whoever owns each partition now gets its record again (the ledger answers such a redelivery in egress).
    await waitFor(
      () => seen.filter((s) => s === 'b hang').length + seen.filter((s) => s === 'a hang').length >= 4,
      30_000,
      () => `the records to be redelivered (seen: ${seen.join(', ')})`,
    );
    await b.stop();
    await a.stop();
  });
});
