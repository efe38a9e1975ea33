import type { TopicNames } from '../../../src/config';
import { EVENT_TYPES, EnvelopeValidationError, JsonEnvelopeCodec, type InternalEventV2 } from '../../../src/envelope';
import { createKafka, EventPublisher, keyFor, topicFor } from '../../../src/kafka';
import { createMetrics, silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { inboundEnvelope, sampleEnvelopes } from '../../helpers/envelopes';
import { createTestTopics, recordCount, testKafkaConfig } from '../../helpers/kafka';
import { readRecords } from '../../helpers/kafka-consumer';

jest.setTimeout(60_000);

async function startPublisher(
  topics: TopicNames,
  options: Partial<ConstructorParameters<typeof EventPublisher>[0]> = {},
) {
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = new EventPublisher({
    kafka: createKafka(testKafkaConfig(topics), silentLogger),
    topics,
    metrics,
    publishTimeoutMs: 15_000,
    ...options,
  });
  onCleanup(() => publisher.stop());
  await publisher.start();
  return { publisher, metrics };
}

describe('EventPublisher against the broker', () => {
  it('publishes every event type; a plain consumer reads back key, CloudEvents headers and the envelope', async () => {
    const topics = await createTestTopics();
    const { publisher, metrics } = await startPublisher(topics);
    const samples = sampleEnvelopes();
    const events = EVENT_TYPES.map((t) => samples[t]);

    const published = await Promise.all(events.map((e) => publisher.publish(e)));

    const records = await readRecords({ topics: Object.values(topics), count: events.length });
    expect(records).toHaveLength(events.length);
    const codec = new JsonEnvelopeCodec();
    for (const [i, event] of events.entries()) {
      const record = records.find((r) => r.headers.ce_id === event.id);
      expect(record).toBeDefined();
      expect(record!.topic).toBe(topicFor(event, topics));
      expect(published[i]).toEqual({ topic: record!.topic, partition: record!.partition, offset: record!.offset });
      expect(record!.key).toBe(keyFor(event));
      expect(record!.headers).toEqual({
        ce_specversion: '1.0',
        ce_id: event.id,
        ce_type: event.type,
        ce_source: event.source,
        ce_time: event.occurredAt,
        ce_subject: event.subject,
        'content-type': 'application/json',
        ...(event.correlationId ? { ce_correlationid: event.correlationId } : {}),
        ...(event.causationId ? { ce_causationid: event.causationId } : {}),
      });
      expect(await codec.decode(record!.value!)).toEqual(event);
    }
    // Outcomes share one topic: the five SMS outcome types and the three voice ones land there.
    const outcomes = await metrics.kafkaPublished.get();
    expect(outcomes.values.find((v) => v.labels.topic === topics.outcomes)?.value).toBe(8);
    expect(outcomes.values.find((v) => v.labels.topic === topics.voiceCalls)?.value).toBe(3);
    expect(outcomes.values.find((v) => v.labels.topic === topics.voiceRecordings)?.value).toBe(3);
    expect((await metrics.kafkaPublishLatency.get()).values.length).toBeGreaterThan(0);
  });

  it('never publishes an invalid envelope and names the bad field', async () => {
    const topics = await createTestTopics();
    const { publisher, metrics } = await startPublisher(topics);
    const good = sampleEnvelopes()['sms.outbound.requested'];
    const bad = { ...good, data: { ...good.data, sendAt: 'tomorrow-ish' } } as InternalEventV2;

    const err = await publisher.publish(bad).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(EnvelopeValidationError);
    expect(err).toMatchObject({ code: 'IE_ENVELOPE_INVALID', retriable: false });
    expect((err as EnvelopeValidationError).fields.map((f) => f.path)).toEqual(['data.sendAt']);
    expect((err as Error).message).toContain('data.sendAt');
    // A valid one goes through, and it is the only record the topic ever received.
    await publisher.publish(good);
    expect(await recordCount(topics.egress)).toBe(1);
    expect((await metrics.kafkaPublishErrors.get()).values).toEqual([]);
  });

  it('keeps one key in order across concurrent, batched publishes and reports distinct offsets', async () => {
    const topics = await createTestTopics();
    const { publisher } = await startPublisher(topics, { maxBatchRecords: 64 });
    const keys = 5;
    const perKey = 100;
    const events = Array.from({ length: keys * perKey }, (_, i) => inboundEnvelope(i, { customers: keys }));
    expect(new Set(events.map(keyFor)).size).toBe(keys);
    const results = await Promise.all(events.map((e) => publisher.publish(e)));

    const positions = new Set(results.map((r) => `${r.partition}/${r.offset}`));
    expect(positions.size).toBe(events.length);
    const records = await readRecords({ topics: [topics.inbound], count: events.length });
    const order = new Map<string, string[]>();
    for (const r of records.sort((a, b) => Number(a.offset) - Number(b.offset))) {
      order.set(r.key!, [...(order.get(r.key!) ?? []), r.headers.ce_id!]);
    }
    for (const [key, ids] of order) {
      const expected = events.filter((e) => keyFor(e) === key).map((e) => e.id);
      expect(ids).toEqual(expected);
    }
  });

  it('publishes raw records (DLQ entries) with their headers', async () => {
    const topics = await createTestTopics();
    const { publisher } = await startPublisher(topics);
    const result = await publisher.publishRaw({
      topic: topics.egressDlq,
      key: 'k1',
      value: Buffer.from('poison'),
      headers: { 'x-dlq-reason': 'IE_ENVELOPE_DECODE' },
    });
    const [record] = await readRecords({ topics: [topics.egressDlq], count: 1 });
    expect(record).toMatchObject({
      key: 'k1',
      partition: result.partition,
      offset: result.offset,
      headers: { 'x-dlq-reason': 'IE_ENVELOPE_DECODE' },
    });
    expect(record!.value!.toString()).toBe('poison');
  });

  it('has idempotent start/stop, is ready only while connected, and never reopens', async () => {
    const topics = await createTestTopics();
    const publisher = new EventPublisher({ kafka: createKafka(testKafkaConfig(topics), silentLogger), topics });
    onCleanup(() => publisher.stop());
    const event = sampleEnvelopes()['sms.status.updated'];

    await expect(publisher.publish(event)).rejects.toMatchObject({ code: 'IE_KAFKA_NOT_CONNECTED', retriable: true });
    expect(publisher.isReady()).toBe(false);
    const s1 = publisher.start();
    expect(publisher.start()).toBe(s1);
    await s1;
    expect(publisher.isReady()).toBe(true);
    expect(publisher.status).toBe('connected');

    const inFlight = publisher.publish(event);
    const stop1 = publisher.stop();
    expect(publisher.stop()).toBe(stop1);
    expect(publisher.isReady()).toBe(false);
    // A record accepted before stop() is still delivered: stop flushes.
    await expect(inFlight).resolves.toMatchObject({ topic: topics.status });
    await stop1;
    expect(publisher.status).toBe('stopped');
    await expect(publisher.publish(event)).rejects.toMatchObject({ code: 'IE_KAFKA_NOT_CONNECTED' });
    await expect(publisher.start()).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
  });
});
