import type { Clock, ClockTimer } from '../../src/common/clock';

/** A Clock for unit tests: time moves only by advance(), and timers fire when their time comes. */
export interface SteppedClock extends Clock {
  /** Moves the time on by `ms` and fires the timers now due, in order. */
  advance(ms: number): void;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
}

export function steppedClock(start = 0): SteppedClock {
  let now = start;
  let timers: { at: number; fn: () => void; t: ClockTimer }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { __timer: true } as const;
      timers.push({ at: now + ms, fn, t });
      return t;
    },
    clearTimeout(t) {
      timers = timers.filter((x) => x.t !== t);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((x) => x.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((x) => x.at > now);
      for (const d of due) d.fn();
    },
    pending: () => timers.length,
  };
}
