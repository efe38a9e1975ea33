import type { EgressContext } from '../../connector';
import { sleep, type Clock } from '../../resilience';
import type { Delivery } from './delivery';
import type { EgressDeps } from './egress-deps';

/** Slack on top of the Twilio timeout before an attempt that was sent is assumed over at Twilio. */
export const IN_FLIGHT_GRACE_MS = 1_000;

/** What waiting out an earlier call to Twilio needs (SMS and voice egress deps both have it). */
export interface AttemptTiming {
  clock: Clock;
  /** Per-attempt timeout of a Twilio call (TWILIO_TIMEOUT_SECS). */
  twilioTimeoutMs: number;
}

/**
 * Milliseconds until a call to Twilio that began at `start` must be over: start + `TWILIO_TIMEOUT_SECS` + grace
 * (0 when it is, or when there is no such call). A timeout or reset ends the wait on our side only: the request
 * was sent, and Twilio may still execute it after that. A reconciliation that lists the recipient's messages (or
 * the callee's calls) before then can miss it, and the resend that follows texts (or rings) a second time.
 */
export function msUntilOver(deps: AttemptTiming, start: number | undefined): number {
  if (start === undefined) return 0;
  return Math.max(0, start + deps.twilioTimeoutMs + IN_FLIGHT_GRACE_MS - deps.clock.now());
}

/** Waits (heartbeating first, abortable by the record's signal) until a call that began at `start` must be over. */
export async function waitUntilOver(
  deps: AttemptTiming,
  context: EgressContext,
  start: number | undefined,
): Promise<void> {
  const wait = msUntilOver(deps, start);
  if (wait <= 0) return;
  await context.heartbeat();
  await sleep(deps.clock, wait, context.signal);
}

/** Milliseconds until this delivery's last call to Twilio must be over (see msUntilOver). */
export function untilAttemptOver(deps: EgressDeps, d: Delivery): number {
  return msUntilOver(deps, d.lastAttemptAt);
}

/**
 * This process's calls to Twilio that Twilio may still execute, by ledger key: the start of the last call that got
 * no answer (it timed out, was reset or was aborted) or is still under way. A record redelivered to this process
 * (after a lost partition, a detached batch told to stop, a drain) finds its own `intent` in the ledger, and its
 * earlier delivery's wait is gone with it: the ledger stage reads the start here and waits until that call must be
 * over before it reconciles. Another process's intent is waited out from the ledger entry instead.
 */
export class OpenAttempts {
  private readonly starts = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  /** A call for `key` begins at `at`. */
  started(key: string, at: number): void {
    if (this.starts.size >= 1_000) this.prune(at);
    this.starts.set(key, at);
  }

  /** Twilio answered the call for `key` (created, or refused it): nothing of it can land later. */
  answered(key: string): void {
    this.starts.delete(key);
  }

  /** When the last unanswered call for `key` began, if Twilio may still execute it at `now`. */
  lastStart(key: string, now: number): number | undefined {
    const at = this.starts.get(key);
    return at !== undefined && now < at + this.ttlMs ? at : undefined;
  }

  get size(): number {
    return this.starts.size;
  }

  /** Forgets calls that must be over (a record never redelivered here leaves its entry behind). */
  private prune(now: number): void {
    for (const [key, at] of this.starts) if (now >= at + this.ttlMs) this.starts.delete(key);
  }
}

/** Waits (heartbeating first, abortable) until the last attempt must be over. */
export function waitUntilAttemptOver(deps: EgressDeps, d: Delivery): Promise<void> {
  return waitUntilOver(deps, d.context, d.lastAttemptAt);
}
