/**
 * Under jest's fake timers: advances time 25 ms at a step (retry back-offs, waits, reset timeouts run) until the
 * promise settles or `maxSteps` steps have passed, then returns it (so a rejection still reaches the caller).
 */
export async function settle<T>(p: Promise<T>, maxSteps = 2_000): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < maxSteps && !done; i++) await jest.advanceTimersByTimeAsync(25);
  return p;
}
