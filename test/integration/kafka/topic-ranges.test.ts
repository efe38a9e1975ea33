import { fetchTopicRanges, readTopicRanges } from '../../../src/kafka/topic-ranges';
import { createTestTopic, testKafka } from '../../helpers/kafka';

jest.setTimeout(60_000);

describe('reading a topic up to where it ends now (real broker)', () => {
  it('reads every record below the high watermarks taken before, and none written after', async () => {
    const topic = await createTestTopic('ranges', 3);
    const kafka = testKafka();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `before-${i}` })),
      });
      const ranges = await fetchTopicRanges(kafka, topic);
      expect([...ranges.values()].reduce((n, r) => n + Number(r.end - r.start), 0)).toBe(30);
      await producer.send({ topic, messages: [{ partition: 0, value: 'after' }] });

      const seen: string[] = [];
      await readTopicRanges({
        kafka,
        topic,
        ranges,
        groupIdPrefix: 'ie-test-ranges',
        timeoutMs: 30_000,
        onMessage: (_p, m) => seen.push(m.value!.toString()),
      });
      expect(seen.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `before-${i}`).sort());
    } finally {
      await producer.disconnect();
    }
  });

  it('starts at a time: only records appended since then', async () => {
    const topic = await createTestTopic('ranges-since', 1);
    const kafka = testKafka();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: 'old', timestamp: '1000' }] });
      await producer.send({ topic, messages: [{ value: 'new', timestamp: String(Date.now()) }] });
      const ranges = await fetchTopicRanges(kafka, topic, Date.now() - 60_000);
      const seen: string[] = [];
      await readTopicRanges({
        kafka,
        topic,
        ranges,
        groupIdPrefix: 'ie-test-ranges',
        timeoutMs: 30_000,
        onMessage: (_p, m) => seen.push(m.value!.toString()),
      });
      expect(seen).toEqual(['new']);
    } finally {
      await producer.disconnect();
    }
  });

  it('an empty topic is read at once', async () => {
    const topic = await createTestTopic('ranges-empty', 2);
    const kafka = testKafka();
    const ranges = await fetchTopicRanges(kafka, topic);
    expect(ranges.size).toBe(0);
    await expect(
      readTopicRanges({ kafka, topic, ranges, groupIdPrefix: 'x', timeoutMs: 1, onMessage: () => undefined }),
    ).resolves.toBeUndefined();
  });
});
