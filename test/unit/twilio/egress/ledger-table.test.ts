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
});
