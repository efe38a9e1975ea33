import { systemClock } from '../../../src/resilience/clock';
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
