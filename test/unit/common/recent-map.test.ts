import { RecentMap } from '../../../src/common/recent-map';

describe('RecentMap', () => {
  let now = 0;
  beforeEach(() => {
    now = 1_000_000;
  });
  const make = (maxEntries: number, ttlMs?: number) =>
    new RecentMap<number>({ maxEntries, ttlMs, clock: { now: () => now } });

  it('gets what was set; setting again replaces the value', () => {
    const m = make(10);
    m.set('a', 1);
    m.set('a', 2);
    expect(m.get('a')).toBe(2);
    expect(m.has('b')).toBe(false);
  });

  it('holds at most maxEntries and always the newest half, forgetting the oldest first', () => {
    const m = make(10);
    for (let i = 0; i < 1000; i++) {
      m.set(`k${i}`, i);
      expect(m.size).toBeLessThanOrEqual(10);
      for (let j = Math.max(0, i - 4); j <= i; j++) expect(m.get(`k${j}`)).toBe(j);
    }
    expect(m.has('k0')).toBe(false);
    expect(m.has('k989')).toBe(false);
  });

  it('keeps a key that is set again among the newest', () => {
    const m = make(4);
    for (const k of ['a', 'b', 'c']) m.set(k, 1);
    m.set('a', 2); // newest again
    m.set('d', 1);
    expect(m.get('a')).toBe(2);
    expect(m.has('b')).toBe(false); // set alongside a's first write, then forgotten
    expect(m.has('c')).toBe(true);
  });

  it('ignores entries older than ttlMs exactly, whatever generation holds them', () => {
    const m = make(1000, 1000);
    m.set('a', 1);
    now += 999;
    expect(m.get('a')).toBe(1);
    now += 1;
    expect(m.get('a')).toBeUndefined();
    expect(m.has('a')).toBe(false);
  });

  it('frees expired entries a generation at a time as new ones arrive', () => {
    const m = make(1000, 1000);
    for (let i = 0; i < 20; i++) m.set(`k${i}`, i);
    expect(m.size).toBe(20);
    now += 1000;
    m.set('late', 1);
    expect(m.size).toBe(1);
    expect(m.get('late')).toBe(1);
  });

  it('rolls generations by age, so memory follows the TTL at a steady trickle', () => {
    const m = make(1_000_000, 1000);
    for (let t = 0; t < 10_000; t += 10) {
      now = 1_000_000 + t;
      m.set(`k${t}`, t);
    }
    // One entry per 10 ms with a 1 s TTL: between 50 and 150 entries held (1 to 1.5 TTLs), the last 1 s all live.
    expect(m.size).toBeGreaterThanOrEqual(100);
    expect(m.size).toBeLessThanOrEqual(150);
    for (let t = 9_010; t < 10_000; t += 10) expect(m.get(`k${t}`)).toBe(t);
    expect(m.get('k8990')).toBeUndefined();
  });

  it('refuses a size it cannot split into generations', () => {
    expect(() => make(1)).toThrow(RangeError);
  });
});
