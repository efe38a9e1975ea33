/** Small helpers the envelope builders share to turn Twilio's string parameters into envelope fields. */

/** A whole number from a Twilio parameter; undefined when absent, empty or not an integer. */
export function toInt(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

/**
 * A copy without the undefined values, so optional fields are absent rather
 * than `undefined`. Copying rather than `delete` keeps V8's fast properties
 * (a deleted key turns the object into a slow dictionary for zod and JSON).
 */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const k in obj) {
    const v = obj[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}
