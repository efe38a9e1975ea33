import type { SimClock, SimTimer } from './clock';
import type { MessageStatus, PlannedStep, SimMessage } from './message';
import type { Outcome } from './outcomes';
import { DELIVERY_ERRORS } from './twilio-errors';

/**
 * Moves accepted messages through Twilio's lifecycle on the simulated clock:
 * `[scheduled →] [accepted →] queued → sending → sent → delivered|undelivered`,
 * or `… sending → failed`. The outcome is drawn when the message is created, so
 * draws follow creation order and a seeded run is reproducible whatever order
 * timers fire in.
 *
 * The whole remaining lifecycle is planned up front (status + simulated time
 * per step). A message with a StatusCallback gets a timer per step, because its
 * callbacks must go out when they happen; one without is brought up to date
 * only when something reads it (`catchUp`), which makes progression free for
 * the thousands of messages a benchmark creates per second.
 */
export interface StatusDelays {
  /** accepted → queued (a messaging service picked a sender). */
  queued: number;
  /** queued → sending. */
  sending: number;
  /** sending → sent, or sending → failed. */
  sent: number;
  /** sent → delivered or undelivered. */
  delivered: number;
}

export const DEFAULT_STATUS_DELAYS: StatusDelays = { queued: 50, sending: 100, sent: 250, delivered: 1000 };

export interface ProgressionDeps {
  clock: SimClock;
  delays: StatusDelays;
  autoProgress: boolean;
  /** Called after the message entered a status; sends the status callback. */
  onTransition: (m: SimMessage) => void;
  /** Picks a sender for messaging-service messages created without From. */
  assignSender: (m: SimMessage) => void;
}

const TERMINAL: ReadonlySet<MessageStatus> = new Set(['delivered', 'undelivered', 'failed', 'canceled', 'received']);

export function isTerminal(status: MessageStatus): boolean {
  return TERMINAL.has(status);
}

/** Twilio's per-segment price for a US long code, so `price` looks real once a message is sent. */
const PRICE_PER_SEGMENT = 0.0079;
const DELIVERED: Outcome = { status: 'delivered', errorCode: null };

export class StatusProgression {
  private readonly timers = new Map<string, SimTimer>();
  private latestPlanned = -Infinity;

  constructor(private readonly deps: ProgressionDeps) {}

  /** Starts a freshly created outbound message on its way. */
  begin(m: SimMessage, outcome: Outcome): void {
    m.outcome = outcome;
    if (this.deps.autoProgress) this.plan(m, this.deps.clock.now());
  }

  /** Messages waiting for a timer (those with a StatusCallback). */
  get scheduled(): number {
    return this.timers.size;
  }

  /** The simulated time by which every planned step has happened. */
  get settledAt(): number {
    return this.latestPlanned;
  }

  /** Applies every planned step that is due by now. Call before reading a message. */
  catchUp(m: SimMessage): void {
    const plan = m.plan;
    if (!plan) return;
    const now = this.deps.clock.now();
    let i = m.planIndex ?? 0;
    for (; i < plan.length; i++) {
      const step = plan[i];
      if (!step || step.at > now) break;
      this.enter(m, step.status, step.errorCode, step.at);
    }
    m.planIndex = i;
    if (i >= plan.length) m.plan = null;
  }

  /** Takes the next step now, whatever the plan says; returns the new status. */
  step(m: SimMessage): MessageStatus | undefined {
    this.catchUp(m);
    const now = this.deps.clock.now();
    const next = this.steps(m, now)[0];
    if (!next) return undefined;
    this.clearTimer(m);
    m.plan = null;
    this.enter(m, next.status, next.errorCode, now);
    if (this.deps.autoProgress) this.plan(m, now);
    return m.status;
  }

  /** Stops progression (cancel, delete); the message keeps its current status. */
  halt(m: SimMessage): void {
    this.catchUp(m);
    this.clearTimer(m);
    m.plan = null;
  }

  /** Sets any status by hand (tests: `read`, regressions, late callbacks), sends its callback, and carries on from there. */
  force(m: SimMessage, status: MessageStatus, errorCode: number | null): void {
    this.halt(m);
    const now = this.deps.clock.now();
    this.enter(m, status, errorCode, now);
    if (this.deps.autoProgress) this.plan(m, now);
  }

  stopAll(): void {
    for (const t of this.timers.values()) this.deps.clock.clearTimer(t);
    this.timers.clear();
  }

  reset(): void {
    this.stopAll();
    this.latestPlanned = -Infinity;
  }

  /** The rest of the lifecycle from the message's current status, starting at `from`. */
  private steps(m: SimMessage, from: number): PlannedStep[] {
    const d = this.deps.delays;
    const outcome = m.outcome ?? DELIVERED;
    const out: PlannedStep[] = [];
    let status = m.status;
    let t = from;
    for (;;) {
      let next: MessageStatus;
      let errorCode: number | null = null;
      switch (status) {
        case 'scheduled':
          next = 'queued';
          t = Math.max(t, m.sendAt ?? t);
          break;
        case 'accepted':
          next = 'queued';
          t += d.queued;
          break;
        case 'queued':
          next = 'sending';
          t += d.sending;
          break;
        case 'sending':
          next = outcome.status === 'failed' ? 'failed' : 'sent';
          errorCode = next === 'failed' ? outcome.errorCode : null;
          t += d.sent;
          break;
        case 'sent':
          next = outcome.status === 'undelivered' ? 'undelivered' : 'delivered';
          errorCode = next === 'undelivered' ? outcome.errorCode : null;
          t += d.delivered;
          break;
        default:
          return out;
      }
      // A message that waited in the queue longer than its ValidityPeriod is never sent.
      if (next === 'sending' && m.validityPeriodSec !== null && t - m.dateCreated > m.validityPeriodSec * 1000) {
        out.push({ status: 'failed', at: t, errorCode: 30036 });
        return out;
      }
      out.push({ status: next, at: t, errorCode });
      status = next;
    }
  }

  private plan(m: SimMessage, from: number): void {
    const steps = this.steps(m, from);
    if (steps.length === 0) {
      m.plan = null;
      return;
    }
    m.plan = steps;
    m.planIndex = 0;
    const last = steps[steps.length - 1];
    if (last && last.at > this.latestPlanned) this.latestPlanned = last.at;
    if (m.statusCallback !== null) this.armTimer(m);
  }

  private armTimer(m: SimMessage): void {
    const next = m.plan?.[m.planIndex ?? 0];
    if (!next) return;
    this.timers.set(
      m.sid,
      this.deps.clock.setTimer(() => {
        this.timers.delete(m.sid);
        this.catchUp(m);
        if (m.plan) this.armTimer(m);
      }, next.at - this.deps.clock.now()),
    );
  }

  private enter(m: SimMessage, status: MessageStatus, errorCode: number | null, at: number): void {
    if (status === 'queued') {
      if (m.from === null) this.deps.assignSender(m);
      m.numSegments = m.segments;
    }
    m.status = status;
    m.dateUpdated = at;
    if (status === 'sent' && m.dateSent === null) {
      m.dateSent = at;
      m.price = (-PRICE_PER_SEGMENT * m.segments).toFixed(5);
    }
    if (errorCode !== null) {
      m.errorCode = errorCode;
      m.errorMessage = DELIVERY_ERRORS[errorCode] ?? 'Unknown error';
    }
    m.history.push({ status, at });
    this.deps.onTransition(m);
  }

  private clearTimer(m: SimMessage): void {
    const t = this.timers.get(m.sid);
    if (t) this.deps.clock.clearTimer(t);
    this.timers.delete(m.sid);
  }
}
