import { SeededRng } from '../../src';

describe('SeededRng', () => {
  it('repeats the same sequence for the same seed, numeric or string', () => {
    const a = new SeededRng('seed');
    const b = new SeededRng('seed');
    expect([a.next(), a.sid('SM'), a.uuid()]).toEqual([b.next(), b.sid('SM'), b.uuid()]);
    expect(new SeededRng(42).next()).toBe(new SeededRng(42).next());
    expect(new SeededRng(1).next()).not.toBe(new SeededRng(2).next());
  });

  it('makes Twilio-shaped SIDs and UUID-shaped tokens', () => {
    const r = new SeededRng(7);
    for (let i = 0; i < 100; i++) {
      expect(r.sid('SM')).toMatch(/^SM[0-9a-f]{32}$/);
      expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('draws chances close to their probability and short-circuits 0 and 1', () => {
    const r = new SeededRng(3);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (r.chance(0.2)) hits++;
    expect(hits / 10_000).toBeGreaterThan(0.18);
    expect(hits / 10_000).toBeLessThan(0.22);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
  });
});
