import fc from 'fast-check';
import { E164Table } from '../../../src/compliance/e164-table';

describe('E164Table', () => {
  it('stores, finds, updates and deletes numbers', () => {
    const t = new E164Table();
    expect(t.get('+14155550123')).toBeUndefined();
    expect(t.set('+14155550123', 7)).toBe(true);
    expect(t.get('+14155550123')).toBe(7);
    t.set('+14155550123', -3);
    expect(t.get('+14155550123')).toBe(-3);
    expect(t.size).toBe(1);
    expect(t.delete('+14155550123')).toBe(true);
    expect(t.delete('+14155550123')).toBe(false);
    expect(t.get('+14155550123')).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it.each([
    '14155550123',
    '+0123456789',
    '+123456',
    '+1234567890123456',
    '+1415555O123',
    '',
    '+',
    'whatsapp:+14155550123',
  ])('refuses the non-E.164 key %j', (key) => {
    const t = new E164Table();
    expect(t.set(key, 1)).toBe(false);
    expect(t.get(key)).toBeUndefined();
    expect(t.delete(key)).toBe(false);
  });

  it('keeps numbers apart that share digits but differ in length', () => {
    const t = new E164Table();
    const keys = [
      '+1234567',
      '+12345670',
      '+123456700',
      '+1234567000',
      '+123456700000000',
      '+100000000000000',
      '+999999999999999',
    ];
    keys.forEach((k, i) => t.set(k, i));
    keys.forEach((k, i) => expect(t.get(k)).toBe(i));
  });

  it('behaves like a Map under random sets and deletes, through growth and rebuilds', () => {
    const number = fc.integer({ min: 0, max: 3000 }).map((n) => `+1415${String(5_550_000 + n)}`);
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: number,
        value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), key: number }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 5000, size: 'max' }), (ops) => {
        const t = new E164Table();
        const m = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            t.set(o.key, o.value);
            m.set(o.key, o.value);
          } else {
            expect(t.delete(o.key)).toBe(m.delete(o.key));
          }
        }
        expect(t.size).toBe(m.size);
        for (let n = 0; n <= 3000; n += 7) {
          const key = `+1415${String(5_550_000 + n)}`;
          expect(t.get(key)).toBe(m.get(key));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('holds many numbers in 32–64 bytes each (16-byte slots, load 0.25–0.5)', () => {
    const t = new E164Table();
    for (let i = 0; i < 300_000; i++) t.set(`+1${2_000_000_000 + i}`, i);
    expect(t.size).toBe(300_000);
    expect(t.get('+12000299999')).toBe(299_999);
    expect(t.get('+13000000000')).toBeUndefined();
    expect(t.bytes / t.size).toBeLessThanOrEqual(64);
    expect(t.bytes / t.size).toBeGreaterThanOrEqual(32);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get('+12000000001')).toBeUndefined();
  });
});
