import { randomBytes } from 'node:crypto';
import type { ICustomPartitioner, Message } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** A key's bytes as the Java client hashes them (UTF-8), without a Buffer for ASCII keys such as phone numbers. */
function byteAt(key: string | Buffer): { length: number; at: (i: number) => number } {
  if (Buffer.isBuffer(key)) return { length: key.length, at: (i) => key[i]! };
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(key)) return { length: key.length, at: (i) => key.charCodeAt(i) };
  const bytes = Buffer.from(key, 'utf8');
  return { length: bytes.length, at: (i) => bytes[i]! };
}

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) in 32-bit
 * integer arithmetic. kafkajs ships the same function built on a 64-bit Long
 * emulation, which costs several times more per record; results are identical
 * (a unit test compares them).
 */
export function murmur2(key: string | Buffer): number {
  const data = byteAt(key);
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data.at(i4) | (data.at(i4 + 1) << 8) | (data.at(i4 + 2) << 16) | (data.at(i4 + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data.at(tail + 2) << 16;
    if (rest >= 2) h ^= data.at(tail + 1) << 8;
    h ^= data.at(tail);
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The Java client's (and kafkajs's DefaultPartitioner's) choice, computed
 * faster: an explicit partition wins; a key goes to murmur2(key) mod the
 * partition count, so every client puts a key on the same partition; records
 * without a key rotate over the partitions that have a leader.
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({
    topic,
    partitionMetadata,
    message,
  }: {
    topic: string;
    partitionMetadata: { partitionId: number; leader: number }[];
    message: Message;
  }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const count = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) {
      return (murmur2(message.key) & 0x7fffffff) % count;
    }
    const next = ((counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1) >>> 0;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[(next & 0x7fffffff) % available.length]!.partitionId;
    return (next & 0x7fffffff) % count;
  };
};
