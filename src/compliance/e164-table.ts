/**
 * A hash table from E.164 numbers to small integers, for the consent store.
 *
 * With a million numbers, a Map<string, …> lookup costs three or four cache
 * misses (bucket, entry, the key string to compare) and ~60 bytes a number.
 * Here a number is parsed into two int32s (digits before and after the last
 * nine) and lives with its value in one 16-byte slot of an Int32Array with
 * linear probing: a lookup touches one cache line in the common case, parses
 * without allocating, and a number costs 32–64 bytes (16-byte slots, load 0.25–0.5).
 *
 * Only `+` followed by 7–15 digits (no leading zero) is accepted; other keys
 * are simply absent (set() returns false), so callers keep a fallback.
 */

const STRIDE = 4; // hi + 1 (0 = empty, -1 = deleted), lo, value, padding to 16 bytes
const EMPTY = 0;
const DELETED = -1;
const MIN_CAPACITY = 1024;

export class E164Table {
  private slots = new Int32Array(MIN_CAPACITY * STRIDE);
  private mask = MIN_CAPACITY - 1;
  private live = 0;
  private occupied = 0; // live + deleted markers
  // The last parsed key: parse() writes here instead of returning an object.
  private hi = 0;
  private lo = 0;

  get size(): number {
    return this.live;
  }

  get(number: string): number | undefined {
    if (!this.parse(number)) return undefined;
    const i = this.find(this.hi, this.lo);
    return i < 0 ? undefined : this.slots[i + 2];
  }

  /** Stores an int32 for the number; false when the key is not E.164. */
  set(number: string, value: number): boolean {
    if (!this.parse(number)) return false;
    const hi = this.hi;
    const lo = this.lo;
    const existing = this.find(hi, lo);
    if (existing >= 0) {
      this.slots[existing + 2] = value;
      return true;
    }
    if ((this.occupied + 1) * 2 > this.mask + 1) this.resize();
    this.insert(hi, lo, value);
    return true;
  }

  delete(number: string): boolean {
    if (!this.parse(number)) return false;
    const i = this.find(this.hi, this.lo);
    if (i < 0) return false;
    this.slots[i] = DELETED;
    this.live--;
    return true;
  }

  clear(): void {
    this.slots = new Int32Array(MIN_CAPACITY * STRIDE);
    this.mask = MIN_CAPACITY - 1;
    this.live = 0;
    this.occupied = 0;
  }

  /** Bytes held by the slot array. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  private parse(s: string): boolean {
    const n = s.length - 1;
    if (n < 7 || n > 15 || s.charCodeAt(0) !== 43) return false;
    const split = n - 9;
    let hi = 0;
    let lo = 0;
    for (let k = 1; k <= n; k++) {
      const d = s.charCodeAt(k) - 48;
      if (d < 0 || d > 9 || (k === 1 && d === 0)) return false;
      if (k <= split) hi = hi * 10 + d;
      else lo = lo * 10 + d;
    }
    this.hi = hi;
    this.lo = lo;
    return true;
  }

  private slotOf(hi: number, lo: number): number {
    let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return (h & this.mask) * STRIDE;
  }

  /** Index of the key's slot, or -1. */
  private find(hi: number, lo: number): number {
    const slots = this.slots;
    const tag = hi + 1;
    const end = slots.length;
    let i = this.slotOf(hi, lo);
    for (;;) {
      const t = slots[i]!;
      if (t === EMPTY) return -1;
      if (t === tag && slots[i + 1] === lo) return i;
      i += STRIDE;
      if (i === end) i = 0;
    }
  }

  private insert(hi: number, lo: number, value: number): void {
    const slots = this.slots;
    const end = slots.length;
    let i = this.slotOf(hi, lo);
    while (slots[i]! > EMPTY) {
      i += STRIDE;
      if (i === end) i = 0;
    }
    if (slots[i] === EMPTY) this.occupied++;
    slots[i] = hi + 1;
    slots[i + 1] = lo;
    slots[i + 2] = value;
    this.live++;
  }

  private resize(): void {
    const old = this.slots;
    // Double when more than a quarter is live (load then 0.25–0.5); otherwise rebuild
    // at the same size, which only drops the deleted markers.
    const capacity = this.live * 4 > this.mask + 1 ? (this.mask + 1) * 2 : this.mask + 1;
    this.slots = new Int32Array(capacity * STRIDE);
    this.mask = capacity - 1;
    this.live = 0;
    this.occupied = 0;
    for (let i = 0; i < old.length; i += STRIDE) {
      const t = old[i]!;
      if (t > EMPTY) this.insert(t - 1, old[i + 1]!, old[i + 2]!);
    }
  }
}
