import { finishesWithin, raceDeadline, settlesWithin, valueWithin } from '../../../src/common/deadline';
import { steppedClock } from '../../helpers/stepped-clock';

describe('raceDeadline', () => {
  it("gives the work's value when it fulfils first and clears its timer", async () => {
    const clock = steppedClock();
    await expect(raceDeadline(Promise.resolve(7), 1_000, clock)).resolves.toEqual({ done: true, value: 7 });
    expect(clock.pending()).toBe(0);
  });

  it('gives done: false when the time runs out first', async () => {
    const clock = steppedClock();
    const r = raceDeadline(new Promise(() => undefined), 1_000, clock);
    clock.advance(1e12);
    await expect(r).resolves.toEqual({ done: false });
  });

  it("passes the work's rejection on when it fails in time, and clears its timer", async () => {
    const clock = steppedClock();
    await expect(raceDeadline(Promise.reject(new Error('broken')), 1_000, clock)).rejects.toThrow('broken');
    expect(clock.pending()).toBe(0);
  });

  it('a rejection after the deadline is not unhandled', async () => {
    const clock = steppedClock();
    let fail: (e: Error) => void = () => undefined;
    const work = new Promise<void>((_, reject) => (fail = reject));
    const r = raceDeadline(work, 10, clock);
    clock.advance(1e12);
    await expect(r).resolves.toEqual({ done: false });
    fail(new Error('late'));
    await expect(work).rejects.toThrow('late');
  });

  it('an infinite deadline waits for the work without a timer', async () => {
    const clock = steppedClock();
    const r = raceDeadline(Promise.resolve('x'), Infinity, clock);
    expect(clock.pending()).toBe(0);
    await expect(r).resolves.toEqual({ done: true, value: 'x' });
  });
});

describe('finishesWithin, settlesWithin, valueWithin', () => {
  it('finishesWithin is true in time and false after; a rejection propagates', async () => {
    const clock = steppedClock();
    await expect(finishesWithin(Promise.resolve(), 5, clock)).resolves.toBe(true);
    const late = finishesWithin(new Promise(() => undefined), 5, clock);
    clock.advance(1e12);
    await expect(late).resolves.toBe(false);
    await expect(finishesWithin(Promise.reject(new Error('no')), 5, clock)).rejects.toThrow('no');
  });

  it('settlesWithin counts a rejection as finished', async () => {
    await expect(settlesWithin(Promise.reject(new Error('no')), 5, steppedClock())).resolves.toBe(true);
  });

  it('valueWithin throws the given error when the time runs out', async () => {
    const clock = steppedClock();
    await expect(valueWithin(Promise.resolve(3), 5, () => new Error('late'), clock)).resolves.toBe(3);
    const late = valueWithin(new Promise(() => undefined), 5, () => new Error('Kafka did not acknowledge'), clock);
    clock.advance(1e12);
    await expect(late).rejects.toThrow('Kafka did not acknowledge');
  });
});
