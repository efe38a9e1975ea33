/**
 * Simulated time. Everything that happens "inside Twilio" (timestamps, status
 * progression, scheduled sends) runs on a SimClock so tests step it instead of
 * sleeping. Real socket work (webhook timeouts, injected latency) stays on real
 * timers because it measures real I/O.
 */
export interface SimTimer {
  readonly id: number;
}

export interface SimClock {
  /** Milliseconds since the epoch, simulated. */
  now(): number;
  setTimer(fn: () => void, delayMs: number): SimTimer;
  clearTimer(timer: SimTimer): void;
}

/**
 * Wall-clock time for the sandbox, the CLI and benchmarks. Timers are grouped
 * into 5 ms buckets, one Node timer per bucket: at thousands of messages a
 * second, each with four progression steps, one Node timer per step would cost
 * more than answering the request. Timers are unref'd so pending progressions
 * never keep a process alive.
 */
export class RealClock implements SimClock {
  static readonly RESOLUTION_MS = 5;
  private nextId = 1;
  private readonly buckets = new Map<number, { handle: NodeJS.Timeout; fns: Map<number, () => void> }>();
  private readonly bucketOf = new Map<number, number>();

  now(): number {
    return Date.now();
  }

  setTimer(fn: () => void, delayMs: number): SimTimer {
    const id = this.nextId++;
    const res = RealClock.RESOLUTION_MS;
    const due = Math.ceil((Date.now() + Math.max(0, delayMs)) / res) * res;
    let bucket = this.buckets.get(due);
    if (!bucket) {
      const fns = new Map<number, () => void>();
      const handle = setTimeout(() => this.fire(due), Math.max(0, due - Date.now()));
      handle.unref();
      bucket = { handle, fns };
      this.buckets.set(due, bucket);
    }
    bucket.fns.set(id, fn);
    this.bucketOf.set(id, due);
    return { id };
  }

  clearTimer(timer: SimTimer): void {
    const due = this.bucketOf.get(timer.id);
    if (due === undefined) return;
    this.bucketOf.delete(timer.id);
    const bucket = this.buckets.get(due);
    if (!bucket) return;
    bucket.fns.delete(timer.id);
    if (bucket.fns.size === 0) {
      clearTimeout(bucket.handle);
      this.buckets.delete(due);
    }
  }

  private fire(due: number): void {
    const bucket = this.buckets.get(due);
    if (!bucket) return;
    this.buckets.delete(due);
    for (const [id, fn] of bucket.fns) {
      this.bucketOf.delete(id);
      fn();
    }
  }
}

interface PendingTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Timers due at the same instant fire in
 * the order they were set, so a run is reproducible.
 */
export class ManualClock implements SimClock {
  private current: number;
  private nextId = 1;
  private seq = 0;
  private readonly timers = new Map<number, PendingTimer>();

  /** Starts at 2024-01-01T00:00:00Z unless told otherwise, so recordings do not depend on the day they were made. */
  constructor(startMs: number | Date = Date.UTC(2024, 0, 1)) {
    this.current = typeof startMs === 'number' ? startMs : startMs.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, delayMs: number): SimTimer {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, delayMs), seq: this.seq++, fn });
    return { id };
  }

  clearTimer(timer: SimTimer): void {
    this.timers.delete(timer.id);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** When the earliest timer is due, or undefined when none is set. */
  nextDue(): number | undefined {
    return this.peek()?.due;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      const next = this.peek();
      if (!next || next.due > target) break;
      this.fireOne(next);
    }
    this.current = target;
  }

  /**
   * Fires the earliest timer due at or before `target` (moving time to it) and
   * reports whether one fired; lets callers settle async work between timers.
   */
  step(target: number): boolean {
    const next = this.peek();
    if (!next || next.due > target) return false;
    this.fireOne(next);
    return true;
  }

  /** Sets the time without firing timers (never backwards). */
  setTime(ms: number): void {
    this.current = Math.max(this.current, ms);
  }

  private fireOne(timer: PendingTimer): void {
    this.timers.delete(timer.id);
    this.current = Math.max(this.current, timer.due);
    timer.fn();
  }

  private peek(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

export function isManualClock(clock: SimClock): clock is ManualClock {
  return clock instanceof ManualClock;
}
