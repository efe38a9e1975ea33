import { RecentSet } from '../../../../src/twilio/conversations/recent-set';

describe('RecentSet', () => {
  it('remembers keys up to its capacity, forgetting the oldest first', () => {
    const s = new RecentSet(3);
    for (const k of ['a', 'b', 'c', 'a', 'd']) s.add(k);
    expect(s.size).toBe(3);
    expect(s.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((k) => s.has(k))).toBe(true);
  });
});
