import { LedgerTable } from '../../../../src/twilio/egress/ledger-table';
import type { LedgerEntry } from '../../../../src/twilio/egress/send-ledger';

const entry = (over: Partial<LedgerEntry>): LedgerEntry => ({
  key: 'r1|+14155550123',
  state: 'intent',
  requestId: 'r1',
  recipient: '+14155550123',
  accountSid: 'AC' + '1'.repeat(32),
  attemptAt: 1000,
  owner: 'a',
  updatedAt: 1000,
  ...over,
});

const MIN = 60_000;

describe('LedgerTable', () => {
  it('moves entries forward only: sent is final, a late intent never hides a send', () => {
    const t = new LedgerTable();
    expect(t.apply(entry({}))).toBe(true);
    expect(t.apply(entry({ state: 'sent', messageSid: 'SM1', updatedAt: 2000 }))).toBe(true);
    expect(t.apply(entry({ state: 'intent', owner: 'b', updatedAt: 3000 }))).toBe(false);
    expect(t.get('r1|+14155550123')).toMatchObject({ state: 'sent', messageSid: 'SM1' });
    expect(t.byMessageSid('SM1')?.key).toBe('r1|+14155550123');
  });

  it('indexes the recipients of a request and forgets entries past the retention', () => {
    const t = new LedgerTable();
    t.apply(entry({ key: 'bulk|a', requestId: 'bulk', recipient: 'a', updatedAt: 10 }));
    t.apply(
      entry({ key: 'bulk|b', requestId: 'bulk', recipient: 'b', updatedAt: 20, state: 'sent', messageSid: 'SM2' }),
    );
    expect(
      t
        .byRequest('bulk')
        .map((e) => e.recipient)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(t.prune(15)).toBe(1);
    expect(t.byRequest('bulk').map((e) => e.recipient)).toEqual(['b']);
    expect(t.prune(100)).toBe(1);
    expect(t.size).toBe(0);
    expect(t.byRequest('bulk')).toEqual([]);
    expect(t.byMessageSid('SM2')).toBeUndefined();
  });

  it('keeps at most maxEntries: an entry first written in the oldest minute goes, and forgottenUpTo says until when', () => {
    const t = new LedgerTable(2);
    expect(t.forgottenUpTo).toBe(Number.NEGATIVE_INFINITY);
    t.apply(entry({ key: 'r1|a', requestId: 'r1', recipient: 'a', updatedAt: 10 * MIN }));
    t.apply(entry({ key: 'r2|a', requestId: 'r2', recipient: 'a', updatedAt: 20 * MIN }));
    // An update keeps its entry's place: r1 is still the oldest.
    t.apply(
      entry({ key: 'r1|a', requestId: 'r1', recipient: 'a', updatedAt: 30 * MIN, state: 'sent', messageSid: 'SM1' }),
    );
    t.apply(entry({ key: 'r3|a', requestId: 'r3', recipient: 'a', updatedAt: 40 * MIN }));
    expect(t.size).toBe(2);
    expect(t.get('r1|a')).toBeUndefined();
    expect(t.byRequest('r1')).toEqual([]);
    expect(t.byMessageSid('SM1')).toBeUndefined();
    expect(t.forgottenUpTo).toBe(30 * MIN);
    expect(t.get('r2|a')).toBeDefined();
    for (let i = 4; i < 3000; i++)
      t.apply(entry({ key: `r${i}|a`, requestId: `r${i}`, recipient: 'a', updatedAt: i * 10 * MIN }));
    expect(t.size).toBe(2);
    expect(t.forgottenUpTo).toBe(2997 * 10 * MIN);
    expect(['r2998|a', 'r2999|a'].map((k) => t.get(k)?.key)).toEqual(['r2998|a', 'r2999|a']);
  });

  it('keeps a bulk request’s other recipients indexed when one of them is forgotten', () => {
    const t = new LedgerTable(2);
    ['a', 'b', 'c'].forEach((r, i) =>
      t.apply(entry({ key: `bulk|${r}`, requestId: 'bulk', recipient: r, updatedAt: (i + 1) * MIN })),
    );
    expect(t.byRequest('bulk').map((e) => e.recipient)).toEqual(['b', 'c']);
    t.apply(entry({ key: 'x|a', requestId: 'x', recipient: 'a', updatedAt: 4 * MIN }));
    expect(t.byRequest('bulk').map((e) => e.recipient)).toEqual(['c']);
  });

  it('counts what prune and forgot() drop in forgottenUpTo, and keeps what an unbounded table holds', () => {
    const t = new LedgerTable();
    t.apply(entry({ key: 'r1|a', requestId: 'r1', updatedAt: 10 * MIN }));
    t.apply(entry({ key: 'r2|a', requestId: 'r2', updatedAt: 50 * MIN }));
    t.forgot(5 * MIN);
    expect(t.forgottenUpTo).toBe(5 * MIN);
    expect(t.prune(20 * MIN)).toBe(1);
    expect(t.forgottenUpTo).toBe(10 * MIN);
    t.forgot(7 * MIN);
    expect(t.forgottenUpTo).toBe(10 * MIN);
    expect(t.size).toBe(1);
  });

  it('after a prune, the bound still forgets the oldest of what is left', () => {
    const t = new LedgerTable(2);
    t.apply(entry({ key: 'r1|a', requestId: 'r1', updatedAt: 10 * MIN }));
    t.apply(entry({ key: 'r2|a', requestId: 'r2', updatedAt: 20 * MIN }));
    t.prune(15 * MIN);
    t.apply(entry({ key: 'r3|a', requestId: 'r3', updatedAt: 30 * MIN }));
    t.apply(entry({ key: 'r4|a', requestId: 'r4', updatedAt: 40 * MIN }));
    expect(t.get('r2|a')).toBeUndefined();
    expect(t.get('r3|a')).toBeDefined();
    expect(t.forgottenUpTo).toBe(20 * MIN);
  });

  it('forgets by the time of the first write, not the order records arrive in (a reader reads partition after partition)', () => {
    const t = new LedgerTable(2);
    for (const m of [40, 10, 50, 20, 30]) t.apply(entry({ key: `r${m}|a`, requestId: `r${m}`, updatedAt: m * MIN }));
    expect(['r10|a', 'r20|a', 'r30|a', 'r40|a', 'r50|a'].map((k) => t.get(k) !== undefined)).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
    expect(t.forgottenUpTo).toBe(30 * MIN);
  });
});
