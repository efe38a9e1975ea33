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
 * Each step follows from the current status and the time it was entered, so
 * nothing needs storing per message beyond a flag. A message with a
 * StatusCallback gets a timer per step, because its callbacks must go out when
 * they happen; one without is brought up to date only when something reads it
 * (`catchUp`), which makes progression nearly free for the thousands of
 * messages a benchmark creates per second.
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

/** When the message entered its current status (the last history entry). */
function enteredAt(m: SimMessage): number {
  return m.history[m.history.length - 1]?.at ?? m.dateCreated;
}
const DELIVERED: Outcome = { status: 'delivered', errorCode: null };

export class StatusProgression {
  private readonly timers = new Map<string, SimTimer>();
  private latestPlanned = -Infinity;

  constructor(private readonly deps: ProgressionDeps) {}

  /** Starts a freshly created outbound message on its way. */
  begin(m: SimMessage, outcome: Outcome): void {
    m.outcome = outcome;
    if (this.deps.autoProgress) this.plan(m);
  }

  /** Messages waiting for a timer (those with a StatusCallback). */
  get scheduled(): number {
    return this.timers.size;
  }

  /** The simulated time by which every planned step has happened. */
  get settledAt(): number {
    return this.latestPlanned;
  }

  /** Applies every step that is due by now. Call before reading a message. */
  catchUp(m: SimMessage): void {
    if (!m.progressing) return;
    const now = this.deps.clock.now();
    for (;;) {
      const next = this.nextStep(m, enteredAt(m));
      if (!next) {
        m.progressing = false;
        return;
      }
      if (next.at > now) return;
      this.enter(m, next.status, next.errorCode, next.at);
    }
  }

  /** Takes the next step now, whatever the plan says; returns the new status. */
  step(m: SimMessage): MessageStatus | undefined {
    this.catchUp(m);
    const now = this.deps.clock.now();
    const next = this.nextStep(m, now);
    if (!next) return undefined;
    this.halt(m);
    this.enter(m, next.status, next.errorCode, now);
    if (this.deps.autoProgress) this.plan(m);
    return m.status;
  }

  /** Stops progression (cancel, delete); the message keeps its current status. */
  halt(m: SimMessage): void {
    this.catchUp(m);
    this.clearTimer(m);
    m.progressing = false;
  }

  /** Sets any status by hand (tests: `read`, regressions, late callbacks), sends its callback, and carries on from there. */
  force(m: SimMessage, status: MessageStatus, errorCode: number | null): void {
    this.halt(m);
    const now = this.deps.clock.now();
    this.enter(m, status, errorCode, now);
    if (this.deps.autoProgress) this.plan(m);
  }

  stopAll(): void {
    for (const t of this.timers.values()) this.deps.clock.clearTimer(t);
    this.timers.clear();
  }

  reset(): void {
    this.stopAll();
    this.latestPlanned = -Infinity;
  }

  /** The step after the current status, entered at `from`; undefined when there is none. */
  private nextStep(m: SimMessage, from: number, status: MessageStatus = m.status): PlannedStep | undefined {
    const d = this.deps.delays;
    const outcome = m.outcome ?? DELIVERED;
    let next: MessageStatus;
    let errorCode: number | null = null;
    let at = from;
    switch (status) {
      case 'scheduled':
        next = 'queued';
        at = Math.max(from, m.sendAt ?? from);
        break;
      case 'accepted':
        next = 'queued';
        at += d.queued;
        break;
      case 'queued':
        next = 'sending';
        at += d.sending;
        break;
      case 'sending':
        next = outcome.status === 'failed' ? 'failed' : 'sent';
        errorCode = next === 'failed' ? outcome.errorCode : null;
        at += d.sent;
        break;
      case 'sent':
        next = outcome.status === 'undelivered' ? 'undelivered' : 'delivered';
        errorCode = next === 'undelivered' ? outcome.errorCode : null;
        at += d.delivered;
        break;
      default:
        return undefined;
    }
    // A message that waited in the queue longer than its ValidityPeriod is never sent.
    if (next === 'sending' && m.validityPeriodSec !== null && at - m.dateCreated > m.validityPeriodSec * 1000) {
      return { status: 'failed', at, errorCode: 30036 };
    }
    return { status: next, at, errorCode };
  }

  /** Sets the message moving from its current status (and remembers when everything will have happened). */
  private plan(m: SimMessage): void {
    let status = m.status;
    let at = enteredAt(m);
    for (let step = this.nextStep(m, at, status); step; step = this.nextStep(m, at, status)) {
      status = step.status;
      at = step.at;
    }
    if (status === m.status) {
      m.progressing = false;
      return;
    }
    m.progressing = true;
    if (at > this.latestPlanned) this.latestPlanned = at;
    if (m.statusCallback !== null) this.armTimer(m);
  }

  private armTimer(m: SimMessage): void {
    const next = this.nextStep(m, enteredAt(m));
    if (!next) return;
    this.timers.set(
      m.sid,
      this.deps.clock.setTimer(() => {
        this.timers.delete(m.sid);
        this.catchUp(m);
        if (m.progressing) this.armTimer(m);
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
