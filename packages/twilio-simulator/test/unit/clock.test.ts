import { ManualClock, RealClock } from '../../src';

describe('ManualClock', () => {
  it('fires due timers in time order, same-time ones in the order they were set', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@20'), 20);
    clock.setTimer(() => fired.push('a@10'), 10);
    clock.setTimer(() => fired.push('c@20'), 20);
    clock.setTimer(() => fired.push('late'), 100);
    clock.advance(20);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(1020);
    expect(clock.pending).toBe(1);
    expect(clock.nextDue()).toBe(1100);
  });

  it('runs timers set by timers when they fall inside the advance', () => {
    const clock = new ManualClock(0);
    const at: number[] = [];
    clock.setTimer(() => {
      at.push(clock.now());
      clock.setTimer(() => at.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(at).toEqual([5, 10]);
  });

  it('clears timers and steps one at a time', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const t = clock.setTimer(() => fired.push(1), 1);
    clock.setTimer(() => fired.push(2), 2);
    clock.clearTimer(t);
    expect(clock.step(10)).toBe(true);
    expect(clock.now()).toBe(2);
    expect(clock.step(10)).toBe(false);
    expect(fired).toEqual([2]);
  });

  it('never moves backwards', () => {
    const clock = new ManualClock(new Date('2024-01-01T00:00:10Z'));
    clock.setTime(0);
    expect(clock.now()).toBe(Date.parse('2024-01-01T00:00:10Z'));
  });
});

describe('RealClock', () => {
  it('groups timers into buckets and can clear them', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const clock = new RealClock();
      const fired: string[] = [];
      clock.setTimer(() => fired.push('a'), 10);
      const b = clock.setTimer(() => fired.push('b'), 11);
      clock.setTimer(() => fired.push('c'), 40);
      clock.clearTimer(b);
      jest.advanceTimersByTime(15);
      expect(fired).toEqual(['a']);
      jest.advanceTimersByTime(30);
      expect(fired).toEqual(['a', 'c']);
    } finally {
      jest.useRealTimers();
    }
  });
});
