import { EVENT_TYPES, SCHEMA_REGISTRY_JSON_CONTENT_TYPE } from '../../../src/envelope';
import { createCodec } from '../../../src/kafka';
import { createKafka, EventPublisher, keyFor, topicFor } from '../../../src/kafka';
import { silentLogger } from '../../../src/observability';
import { onCleanup } from '../../helpers/cleanup';
import { sampleEnvelopes } from '../../helpers/envelopes';
import { createTestTopics, testKafkaConfig } from '../../helpers/kafka';
import { readRecords } from '../../helpers/kafka-consumer';
import { startLocalRegistry } from '../../helpers/schema-registry';

jest.setTimeout(60_000);

describe('EventPublisher with the Schema Registry codec', () => {
  it('publishes every event type in the Confluent wire format; a consumer decodes them through the registry', async () => {
    const registry = await startLocalRegistry();
    const topics = await createTestTopics('ie-sr');
    const config = { kafka: testKafkaConfig(topics), schemaRegistry: { url: registry.url } };
    const publisher = new EventPublisher({
      kafka: createKafka(config.kafka, silentLogger),
      topics,
      codec: createCodec(config),
    });
    onCleanup(() => publisher.stop());
    await publisher.start();
    const samples = sampleEnvelopes();
    const events = EVENT_TYPES.map((t) => samples[t]);

    await Promise.all(events.map((e) => publisher.publish(e)));

    // One subject per topic that received records (TopicNameStrategy), all holding the same schema.
    const used = [...new Set(events.map((e) => topicFor(e, topics)))];
    expect(registry.store.subjectNames()).toEqual(used.map((t) => `${t}-value`).sort());
    const ids = new Set(used.map((t) => registry.store.version(`${t}-value`, 'latest').id));
    expect(ids.size).toBe(1);

    const records = await readRecords({ topics: Object.values(topics), count: events.length });
    // A consumer's codec has no cache: it fetches the schema by the id in each record.
    const consumerCodec = createCodec(config);
    for (const event of events) {
      const record = records.find((r) => r.headers.ce_id === event.id)!;
      expect(record).toBeDefined();
      expect(record.key).toBe(keyFor(event));
      expect(record.headers).toMatchObject({
        ce_specversion: '1.0',
        ce_type: event.type,
        ce_source: event.source,
        ce_time: event.occurredAt,
        ce_subject: event.subject,
        'content-type': SCHEMA_REGISTRY_JSON_CONTENT_TYPE,
      });
      expect(record.value![0]).toBe(0);
      expect(ids.has(record.value!.readInt32BE(1))).toBe(true);
      expect(await consumerCodec.decode(record.value!)).toEqual(event);
    }
  });
});
