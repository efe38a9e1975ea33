import { Semaphore } from '../../../src/resilience/semaphore';

describe('Semaphore', () => {
  it('admits up to its limit and hands slots to waiters in order', async () => {
    const s = new Semaphore(2);
    await s.acquire();
    await s.acquire();
    expect(s.inUse).toBe(2);
    const order: number[] = [];
    const a = s.acquire().then(() => order.push(1));
    const b = s.acquire().then(() => order.push(2));
    expect(s.waiting).toBe(2);
    s.release();
    await a;
    expect(order).toEqual([1]);
    expect(s.inUse).toBe(2);
    s.release();
    await b;
    s.release();
    s.release();
    expect(s.inUse).toBe(0);
    expect(order).toEqual([1, 2]);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
