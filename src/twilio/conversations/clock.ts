/**
 * Time as the ingress client sees it: a clock with timers. Production uses
 * wall time with unref'd timers (a pending refresh never keeps the process
 * alive); unit tests pass a manual clock and step it. The shape matches the
 * simulator's SimClock, so its ManualClock fits.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(timer: TimerHandle): void;
}

export function systemClock(): Clock {
  let next = 1;
  const handles = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Date.now(),
    setTimer(fn, delayMs) {
      const id = next++;
      const h = setTimeout(
        () => {
          handles.delete(id);
          fn();
        },
        Math.max(0, delayMs),
      );
      h.unref();
      handles.set(id, h);
      return { id };
    },
    clearTimer(timer) {
      const h = handles.get(timer.id);
      if (h) clearTimeout(h);
      handles.delete(timer.id);
    },
  };
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimer(timer);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
