import { randomInt } from 'node:crypto';

/**
 * A small seeded generator (mulberry32). Every random choice the simulator
 * makes (SIDs, outcome draws, fault probabilities, callback reordering) comes
 * from one of these, so the same seed and the same requests give the same run.
 */
export class SeededRng {
  private state: number;
  readonly seed: number;

  constructor(seed?: number | string) {
    this.seed = seed === undefined ? randomInt(0, 2 ** 32 - 1) : normalizeSeed(seed);
    this.state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let out = '';
    while (out.length < n)
      out += Math.floor(this.next() * 4294967296)
        .toString(16)
        .padStart(8, '0');
    return out.slice(0, n);
  }

  /** A Twilio-style SID: two-letter prefix + 32 hex digits. */
  sid(prefix: string): string {
    return prefix + this.hex(32);
  }

  /** A UUID-shaped token (version 4 layout), for idempotency tokens. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

function normalizeSeed(seed: number | string): number {
  if (typeof seed === 'number') return seed >>> 0;
  // FNV-1a: any string seed maps to a stable 32-bit state.
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
