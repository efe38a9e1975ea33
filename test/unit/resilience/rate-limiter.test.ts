import { systemClock } from '../../../src/common/clock';
import { RateLimiter, type RateLimitBucket } from '../../../src/resilience/rate-limiter';

beforeEach(() => jest.useFakeTimers({ now: 5_000_000 }));
afterEach(() => jest.useRealTimers());

const ACCOUNT = 'AC' + '1'.repeat(32);

function limiter(hits: RateLimitBucket[] = []) {
  return new RateLimiter({
    account: { ratePerSec: 10, burst: 30 },
    sender: { ratePerSec: 5, burst: 5 },
    recipient: { ratePerSec: 1, burst: 3 },
    clock: systemClock,
    onHit: (b) => hits.push(b),
  });
}

describe('RateLimiter', () => {
  it('limits one recipient to its own rate while others go through', async () => {
    const hits: RateLimitBucket[] = [];
    const rl = limiter(hits);
    const times: Record<string, number[]> = { a: [], b: [] };
    const send = (r: 'a' | 'b') =>
      rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: r }).then(() => times[r]!.push(Date.now()));
    const all = [...Array(6)].map(() => send('a')).concat([send('b')]);
    await jest.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
    const t0 = 5_000_000;
    expect(times.a!.map((t) => t - t0)).toEqual([0, 0, 0, 1_000, 2_000, 3_000]);
    expect(times.b!.map((t) => t - t0)).toEqual([0]);
    expect(hits.filter((h) => h === 'recipient')).toHaveLength(3);
  });

  it('holds the account rate within ±2 % over 30 s across many recipients and never exceeds the burst', async () => {
    const rl = limiter();
    const grants: number[] = [];
    const start = Date.now();
    const until = start + 40_000;
    let n = 0;
    const worker = async () => {
      while (Date.now() < until) {
        await rl.acquire({
          accountSid: ACCOUNT,
          sender: undefined,
          recipient: `+1415555${String(n++).padStart(4, '0')}`,
        });
        if (Date.now() < until) grants.push(Date.now());
      }
    };
    for (let i = 0; i < 40; i++) void worker();
    await jest.advanceTimersByTimeAsync(40_000);
    expect(grants.filter((t) => t === start)).toHaveLength(30);
    const steady = grants.filter((t) => t >= start + 10_000 && t < start + 40_000).length;
    expect(Math.abs(steady - 300) / 300).toBeLessThanOrEqual(0.02);
  });

  it('applies the sender bucket per sender', async () => {
    const hits: RateLimitBucket[] = [];
    const rl = limiter(hits);
    const done: string[] = [];
    const all = [...Array(7)].map((_, i) =>
      rl
        .acquire({ accountSid: ACCOUNT, sender: i < 6 ? '+15550000001' : '+15550000002', recipient: `r${i}` })
        .then(() => done.push(`${i}@${Date.now() - 5_000_000}`)),
    );
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all(all);
    expect(done).toContain('5@200');
    expect(done).toContain('6@0');
    expect(hits).toEqual(['sender']);
  });

  it('takes its share of the account limit from its share of partitions', async () => {
    const rl = limiter();
    rl.setShare(0.5);
    expect(rl.currentShare).toBe(0.5);
    const grants: number[] = [];
    const start = Date.now();
    let n = 0;
    const worker = async () => {
      while (Date.now() < start + 20_000) {
        await rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: `x${n++}` });
        grants.push(Date.now());
      }
    };
    for (let i = 0; i < 20; i++) void worker();
    await jest.advanceTimersByTimeAsync(20_000);
    // Half the burst at once, then half the rate.
    expect(grants.filter((t) => t === start)).toHaveLength(15);
    const steady = grants.filter((t) => t >= start + 10_000 && t < start + 20_000).length;
    expect(steady).toBeGreaterThanOrEqual(49);
    expect(steady).toBeLessThanOrEqual(51);
  });

  it('reports its share (twilio_rate_limit_share): 1 at the start, then each change, clamped to (0, 1]', () => {
    const shares: number[] = [];
    const rl = new RateLimiter({
      account: { ratePerSec: 10, burst: 30 },
      sender: { ratePerSec: 5, burst: 5 },
      recipient: { ratePerSec: 1, burst: 3 },
      clock: systemClock,
      onShare: (s) => shares.push(s),
    });
    expect(shares).toEqual([1]);
    rl.setShare(4 / 12);
    rl.setShare(4 / 12);
    rl.setShare(6 / 12);
    rl.setShare(3);
    rl.setShare(0);
    expect(shares).toEqual([1, 4 / 12, 0.5, 1, 1e-6]);
    expect(rl.currentShare).toBe(1e-6);
  });

  it('reports waiters and forgets idle recipient buckets', async () => {
    const rl = new RateLimiter({
      account: { ratePerSec: 1000, burst: 1000 },
      sender: { ratePerSec: 1000, burst: 1000 },
      recipient: { ratePerSec: 1, burst: 1 },
      clock: systemClock,
      maxIdleBuckets: 10,
    });
    for (let i = 0; i < 10; i++) await rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: `r${i}` });
    const blocked = rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: 'r0' });
    expect(rl.waiting()).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    await blocked;
    expect(rl.waiting()).toBe(0);
    await jest.advanceTimersByTimeAsync(1_000);
    // The 11th recipient triggers a sweep of the full, idle buckets; it still goes at once.
    await expect(rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: 'r10' })).resolves.toBe(false);
  });

  it('stops waiting when aborted', async () => {
    const rl = limiter();
    for (let i = 0; i < 3; i++) await rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: 'r' });
    const ac = new AbortController();
    const p = rl.acquire({ accountSid: ACCOUNT, sender: undefined, recipient: 'r' }, ac.signal);
    ac.abort(new Error('partition revoked'));
    await expect(p).rejects.toThrow('partition revoked');
    expect(rl.waiting()).toBe(0);
  });
});

describe('RateLimiter priorities', () => {
  function prioritised(hits: RateLimitBucket[] = [], bulkShare = 0.25) {
    return new RateLimiter({
      account: { ratePerSec: 20, burst: 4 },
      sender: { ratePerSec: 1000, burst: 1000 },
      recipient: { ratePerSec: 1000, burst: 1000 },
      bulkShare,
      clock: systemClock,
      onHit: (b) => hits.push(b),
    });
  }
  const keys = (i: number) => ({
    accountSid: ACCOUNT,
    sender: undefined,
    recipient: `+1415555${String(i).padStart(4, '0')}`,
  });

  it('holds bulk sends to their share of the account rate, leaving the rest to normal sends', async () => {
    const hits: RateLimitBucket[] = [];
    const rl = prioritised(hits);
    const start = Date.now();
    const grants = { bulk: [] as number[], normal: [] as number[] };
    const until = start + 20_000;
    let n = 0;
    const worker = (priority: 'bulk' | 'normal') => async () => {
      while (Date.now() < until) {
        await rl.acquire(keys(n++), undefined, priority);
        if (Date.now() < until) grants[priority].push(Date.now());
      }
    };
    for (let i = 0; i < 20; i++) void worker('bulk')();
    for (let i = 0; i < 20; i++) void worker('normal')();
    await jest.advanceTimersByTimeAsync(20_000);
    const steady = (ts: number[]) => ts.filter((t) => t >= start + 5_000).length / 15;
    // 25 % of 20/s for bulk, the account's 20/s in total.
    expect(steady(grants.bulk)).toBeCloseTo(5, 0);
    expect(steady(grants.bulk) + steady(grants.normal)).toBeCloseTo(20, 0);
    expect(hits).toContain('bulk');
    expect(rl.waiting('bulk')).toBeGreaterThan(0);
  });

  it('gives an urgent send the next account token however many sends queue', async () => {
    const rl = prioritised([], 1);
    for (let i = 0; i < 4; i++) await rl.acquire(keys(i));
    const queued = Array.from({ length: 200 }, (_, i) => rl.acquire(keys(100 + i), undefined, 'normal'));
    let urgentAt = 0;
    const urgent = rl.acquire(keys(999), undefined, 'urgent').then(() => (urgentAt = Date.now()));
    const t0 = Date.now();
    await jest.advanceTimersByTimeAsync(60);
    await urgent;
    expect(urgentAt - t0).toBe(50);
    // Nobody queued before it got that token.
    expect(rl.waiting()).toBe(200);
    await jest.advanceTimersByTimeAsync(11_000);
    await Promise.all(queued);
  });

  it('scales the bulk bucket with the instance share', async () => {
    const rl = prioritised([], 0.5);
    rl.setShare(0.5);
    const start = Date.now();
    const grants: number[] = [];
    let n = 0;
    const until = start + 12_000;
    const worker = async () => {
      while (Date.now() < until) {
        await rl.acquire(keys(n++), undefined, 'bulk');
        if (Date.now() < until) grants.push(Date.now());
      }
    };
    for (let i = 0; i < 10; i++) void worker();
    await jest.advanceTimersByTimeAsync(12_000);
    // 20/s × 0.5 instance share × 0.5 bulk share.
    expect(grants.filter((t) => t >= start + 2_000).length / 10).toBeCloseTo(5, 0);
  });
});
