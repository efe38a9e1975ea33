import { createHash, randomUUID } from 'node:crypto';

// A fixed namespace so ids are stable across releases and instances.
const NAMESPACE = Buffer.from('6f1c5a3e8b2d4c7fa9e0d1b2c3a4f5e6', 'hex');

/**
 * A UUIDv5 from the parts that identify a Twilio fact: the same webhook
 * delivered twice yields the same id, so consumers can deduplicate.
 */
export function deterministicEventId(...parts: (string | number)[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u001f')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function randomEventId(): string {
  return randomUUID();
}
