import { OffsetTracker } from '../../../src/egress/offset-tracker';

describe('OffsetTracker (what the egress consumer may commit)', () => {
  it('commits only the finished prefix, even when later records finish first', () => {
    const t = new OffsetTracker(['10', '11', '12', '13']);
    expect(t.commitOffset).toBeUndefined();
    expect(t.complete('12')).toBeUndefined();
    expect(t.complete('11')).toBeUndefined();
    expect(t.commitOffset).toBeUndefined();
    expect(t.complete('10')).toBe('13');
    expect(t.lastFinished).toBe('12');
    expect(t.allDone).toBe(false);
    expect(t.complete('13')).toBe('14');
    expect(t.allDone).toBe(true);
  });

  it('handles gaps in offsets (compacted or filtered records) and offsets beyond 2^53', () => {
    const big = (2n ** 60n).toString();
    const next = (2n ** 60n + 5n).toString();
    const t = new OffsetTracker([big, next]);
    expect(t.complete(big)).toBe((2n ** 60n + 1n).toString());
    expect(t.complete(next)).toBe((2n ** 60n + 6n).toString());
  });
});
