export interface ReadinessChange {
  /** ms since the scenario's start */
  atMs: number;
  /** /readyz status (0: no answer) */
  readyz: number;
}

/**
 * What /readyz did around a fault, from the timeline of its changes. `faultAt` is when the fault began and
 * `faultEnd` when its injection returned; for a restarted broker that includes waiting until the broker answers
 * again, so readiness may well be back before `faultEnd`. Times are given from the fault's start.
 */
export function readinessRecovery(timeline: readonly ReadinessChange[], faultAt: number, faultEnd: number): string {
  const s = (ms: number) => `${((ms - faultAt) / 1000).toFixed(1)} s`;
  const over = `fault over at ${s(faultEnd)}`;
  const spells = timeline.filter((t, i) => t.atMs >= faultAt && t.readyz !== 200 && timeline[i - 1]?.readyz === 200);
  const first = spells[0];
  if (!first) return `/readyz stayed 200 (${over})`;
  const lastDown = [...timeline].reverse().find((t) => t.readyz !== 200)!;
  const upAgain = timeline.find((t) => t.atMs > lastDown.atMs && t.readyz === 200);
  const again = upAgain ? `200 again at ${s(upAgain.atMs)}` : 'not 200 again by the end of the run';
  const count = spells.length > 1 ? ` (${spells.length} not-ready spells)` : '';
  return `/readyz not 200 from ${s(first.atMs)}, ${again}${count}; ${over}`;
}
