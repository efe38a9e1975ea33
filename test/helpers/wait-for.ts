/** Polls `check` until it is true (real time: this waits for a real broker and HTTP). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  what: string | (() => string) = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
