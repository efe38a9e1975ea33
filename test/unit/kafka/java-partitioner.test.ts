import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { JavaCompatiblePartitioner, murmur2 } from '../../../src/kafka/java-partitioner';

// kafkajs's own (Long-based) murmur2: the reference our 32-bit version must match.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string | Buffer) => number;

const metadata = (n: number, leaderless: number[] = []) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

describe('murmur2', () => {
  it("matches the Java client's test vectors (Kafka UtilsTest)", () => {
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });

  it('equals kafkajs for any string or byte key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => murmur2(s) === kafkajsMurmur2(s)),
      {
        numRuns: 2000,
      },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const b = Buffer.from(bytes);
        return murmur2(b) === kafkajsMurmur2(b);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('JavaCompatiblePartitioner', () => {
  it("picks kafkajs DefaultPartitioner's partition for every keyed record", () => {
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (key, n) => {
        const args: PartitionerArgs = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
        return ours(args) === theirs(args);
      }),
      { numRuns: 2000 },
    );
  });

  it('honours an explicit partition', () => {
    expect(
      JavaCompatiblePartitioner()({
        topic: 't',
        partitionMetadata: metadata(4),
        message: { key: 'k', value: null, partition: 3 },
      }),
    ).toBe(3);
  });

  it('rotates records without a key over the partitions that have a leader', () => {
    const partition = JavaCompatiblePartitioner();
    const seen = Array.from({ length: 40 }, () =>
      partition({ topic: 't', partitionMetadata: metadata(4, [2]), message: { key: null, value: null } }),
    );
    expect(new Set(seen)).toEqual(new Set([0, 1, 3]));
    // Consecutive records go to different partitions.
    expect(seen.every((p, i) => i === 0 || p !== seen[i - 1])).toBe(true);
  });
});
