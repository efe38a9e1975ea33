import type { Kafka } from 'kafkajs';
import { advancePosition, fetchTopicRanges, rangesRead } from '../../../src/kafka/topic-ranges';

function kafkaWith(
  ends: { partition: number; low: string; high: string }[],
  byTime: { partition: number; offset: string }[] = [],
): { kafka: Kafka; disconnected: () => boolean } {
  let disconnected = false;
  const kafka = {
    admin: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => {
        disconnected = true;
        return Promise.resolve();
      },
      fetchTopicOffsets: () => Promise.resolve(ends.map((e) => ({ ...e, offset: e.high }))),
      fetchTopicOffsetsByTimestamp: () => Promise.resolve(byTime),
    }),
  } as unknown as Kafka;
  return { kafka, disconnected: () => disconnected };
}

describe('fetchTopicRanges', () => {
  it('takes [low, high) of every non-empty partition', async () => {
    const { kafka, disconnected } = kafkaWith([
      { partition: 0, low: '0', high: '5' },
      { partition: 1, low: '3', high: '3' },
      { partition: 2, low: '7', high: '9' },
    ]);
    const ranges = await fetchTopicRanges(kafka, 't');
    expect([...ranges]).toEqual([
      [0, { start: 0n, end: 5n }],
      [2, { start: 7n, end: 9n }],
    ]);
    expect(disconnected()).toBe(true);
  });

  it('starts at the first record at or after a time; -1 (none since) leaves the partition out', async () => {
    const { kafka } = kafkaWith(
      [
        { partition: 0, low: '0', high: '10' },
        { partition: 1, low: '0', high: '4' },
      ],
      [
        { partition: 0, offset: '6' },
        { partition: 1, offset: '-1' },
      ],
    );
    expect([...(await fetchTopicRanges(kafka, 't', 1_000))]).toEqual([[0, { start: 6n, end: 10n }]]);
  });

  it('disconnects the admin client when the offsets cannot be read', async () => {
    let disconnected = false;
    const kafka = {
      admin: () => ({
        connect: () => Promise.resolve(),
        disconnect: () => {
          disconnected = true;
          return Promise.resolve();
        },
        fetchTopicOffsets: () => Promise.reject(new Error('This server does not host this topic-partition')),
      }),
    } as unknown as Kafka;
    await expect(fetchTopicRanges(kafka, 't')).rejects.toThrow(/topic-partition/);
    expect(disconnected).toBe(true);
  });
});

describe('rangesRead and advancePosition', () => {
  const ranges = new Map([
    [0, { start: 0n, end: 3n }],
    [1, { start: 5n, end: 6n }],
  ]);

  it('is read once every partition reached its end; a partition not yet seen sits at its start', () => {
    const positions = new Map<number, bigint>();
    expect(rangesRead(ranges, positions)).toBe(false);
    advancePosition(positions, 0, '2');
    expect(rangesRead(ranges, positions)).toBe(false);
    advancePosition(positions, 1, '5');
    expect(rangesRead(ranges, positions)).toBe(true);
    expect(rangesRead(new Map(), new Map())).toBe(true);
  });

  it('never moves a position back (a stale batch report after a newer one)', () => {
    const positions = new Map<number, bigint>();
    advancePosition(positions, 0, '9');
    advancePosition(positions, 0, '4');
    expect(positions.get(0)).toBe(10n);
  });
});
