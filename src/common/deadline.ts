import { systemClock, type Clock, type ClockTimer } from './clock';

/** What a race against a deadline gave: the work's value, or that the time ran out first. */
export type DeadlineResult<T> = { done: true; value: T } | { done: false };

/**
 * Races `work` against `ms` on the clock: `{ done: true, value }` when the
 * work fulfils in time, `{ done: false }` when the time runs out first, and
 * the work's own rejection when it fails in time. The timer is cleared either
 * way, so a finished race leaves nothing pending. An infinite `ms` waits for
 * the work. The one deadline helper: stop budgets, publish deadlines and
 * "wait at most" all go through it.
 */
export async function raceDeadline<T>(
  work: Promise<T>,
  ms: number,
  clock: Clock = systemClock,
): Promise<DeadlineResult<T>> {
  if (!Number.isFinite(ms)) return { done: true, value: await work };
  let timer: ClockTimer | undefined;
  const expired = new Promise<DeadlineResult<T>>((resolve) => {
    timer = clock.setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then((value): DeadlineResult<T> => ({ done: true, value })), expired]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

/** True when `work` fulfils within `ms`, false when the time runs out first (a rejection in time propagates). */
export async function finishesWithin(work: Promise<unknown>, ms: number, clock: Clock = systemClock): Promise<boolean> {
  return (await raceDeadline(work, ms, clock)).done;
}

/** Like finishesWithin, but a rejection of `work` counts as finished (for waits on work that reports its own errors). */
export function settlesWithin(work: Promise<unknown>, ms: number, clock: Clock = systemClock): Promise<boolean> {
  return finishesWithin(
    work.then(
      () => undefined,
      () => undefined,
    ),
    ms,
    clock,
  );
}

/** The work's value, or `expired()`'s error when `ms` passes first (`onTimeout` runs just before). */
export async function valueWithin<T>(
  work: Promise<T>,
  ms: number,
  expired: () => Error,
  clock: Clock = systemClock,
): Promise<T> {
  const r = await raceDeadline(work, ms, clock);
  if (r.done) return r.value;
  throw expired();
}
