import { abortError, clockFrom, sleep, systemClock } from '../../../src/common/clock';
import { steppedClock } from '../../helpers/stepped-clock';

describe('sleep', () => {
  it('resolves when the clock reaches the time, not before', async () => {
    const clock = steppedClock();
    let done = false;
    const p = sleep(clock, 100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves at once for no wait, rejects at once when already aborted, and early on abort', async () => {
    const clock = steppedClock();
    await expect(sleep(clock, 0)).resolves.toBeUndefined();
    const aborted = new AbortController();
    aborted.abort(new Error('stopping'));
    await expect(sleep(clock, 10, aborted.signal)).rejects.toThrow('stopping');
    const later = new AbortController();
    const p = sleep(clock, 1_000, later.signal);
    later.abort();
    await expect(p).rejects.toThrow();
  });
});

describe('abortError', () => {
  it("is the signal's reason when it is an Error, a plain 'aborted' otherwise", () => {
    const a = new AbortController();
    a.abort('not an error');
    expect(abortError(a.signal).message).toBe('aborted');
    const b = new AbortController();
    b.abort(new Error('why'));
    expect(abortError(b.signal).message).toBe('why');
  });
});

describe('clockFrom and systemClock', () => {
  it('reads the time from the given function and waits on real timers', async () => {
    let t = 5;
    const clock = clockFrom(() => t);
    expect(clock.now()).toBe(5);
    t = 9;
    expect(clock.now()).toBe(9);
    await sleep(clock, 1);
  });

  it("the system clock's timers do not keep the process alive", () => {
    const timer = systemClock.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    systemClock.clearTimeout(timer);
  });
});
