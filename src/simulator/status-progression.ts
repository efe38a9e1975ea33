import type { SimClock, SimTimer } from './clock';
import type { MessageStatus, SimMessage } from './message';
import type { Outcome } from './outcomes';
import { DELIVERY_ERRORS } from './twilio-errors';

/**
 * Moves accepted messages through Twilio's lifecycle on the simulated clock:
 * `[scheduled →] [accepted →] queued → sending → sent → delivered|undelivered`,
 * or `… sending → failed`. The outcome is drawn when the message is created, so
 * draws follow creation order and a seeded run is reproducible whatever order
 * timers fire in.
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
  /** Called after the message entered `status`; sends the status callback. */
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

export class StatusProgression {
  private readonly timers = new Map<string, SimTimer>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly messages = new Map<string, SimMessage>();

  constructor(private readonly deps: ProgressionDeps) {}

  /** Starts a freshly created outbound message on its way. */
  begin(m: SimMessage, outcome: Outcome): void {
    this.outcomes.set(m.sid, outcome);
    this.messages.set(m.sid, m);
    if (this.deps.autoProgress) this.scheduleNext(m);
  }

  /** Number of messages still waiting for a timer. */
  get scheduled(): number {
    return this.timers.size;
  }

  /** The status the message would enter next (undefined when terminal). */
  nextStatus(m: SimMessage): MessageStatus | undefined {
    const outcome = this.outcomes.get(m.sid);
    switch (m.status) {
      case 'scheduled':
      case 'accepted':
        return 'queued';
      case 'queued':
        return 'sending';
      case 'sending':
        return outcome?.status === 'failed' ? 'failed' : 'sent';
      case 'sent':
        return outcome?.status === 'undelivered' ? 'undelivered' : 'delivered';
      default:
        return undefined;
    }
  }

  /** Takes the next step now, ignoring timers; returns the new status. */
  step(sid: string): MessageStatus | undefined {
    const m = this.messages.get(sid);
    if (!m) return undefined;
    this.clearTimer(sid);
    this.advance(m);
    return m.status;
  }

  /** Stops progression (cancel, delete); the message keeps its current status. */
  halt(sid: string): void {
    this.clearTimer(sid);
    this.outcomes.delete(sid);
    this.messages.delete(sid);
  }

  /** Sets any status by hand (tests: `read`, regressions, late callbacks) and sends its callback. */
  force(m: SimMessage, status: MessageStatus, errorCode: number | null): void {
    this.clearTimer(m.sid);
    this.enter(m, status, errorCode);
    if (this.deps.autoProgress && this.messages.has(m.sid)) this.scheduleNext(m);
  }

  stopAll(): void {
    for (const t of this.timers.values()) this.deps.clock.clearTimer(t);
    this.timers.clear();
  }

  reset(): void {
    this.stopAll();
    this.outcomes.clear();
    this.messages.clear();
  }

  private scheduleNext(m: SimMessage): void {
    const next = this.nextStatus(m);
    if (next === undefined) {
      this.halt(m.sid);
      return;
    }
    const delay = this.delayFor(m, next);
    this.timers.set(
      m.sid,
      this.deps.clock.setTimer(() => {
        this.timers.delete(m.sid);
        this.advance(m);
      }, delay),
    );
  }

  private delayFor(m: SimMessage, next: MessageStatus): number {
    const d = this.deps.delays;
    if (m.status === 'scheduled') return Math.max(0, (m.sendAt ?? 0) - this.deps.clock.now());
    switch (next) {
      case 'queued':
        return d.queued;
      case 'sending':
        return d.sending;
      case 'sent':
      case 'failed':
        return d.sent;
      default:
        return d.delivered;
    }
  }

  private advance(m: SimMessage): void {
    const next = this.nextStatus(m);
    if (next === undefined) return;
    if (next === 'sending' && m.validityPeriodSec !== null) {
      // A message that waited in the queue longer than its ValidityPeriod is never sent.
      if (this.deps.clock.now() - m.dateCreated > m.validityPeriodSec * 1000) {
        this.enter(m, 'failed', 30036);
        this.halt(m.sid);
        return;
      }
    }
    const outcome = this.outcomes.get(m.sid);
    const errorCode = next === 'failed' || next === 'undelivered' ? (outcome?.errorCode ?? null) : null;
    this.enter(m, next, errorCode);
    if (this.deps.autoProgress) this.scheduleNext(m);
    else if (isTerminal(m.status)) this.halt(m.sid);
  }

  private enter(m: SimMessage, status: MessageStatus, errorCode: number | null): void {
    const now = this.deps.clock.now();
    if (status === 'queued') {
      if (m.from === null) this.deps.assignSender(m);
      m.numSegments = m.segments;
    }
    m.status = status;
    m.dateUpdated = now;
    if (status === 'sent' && m.dateSent === null) {
      m.dateSent = now;
      m.price = (-PRICE_PER_SEGMENT * m.segments).toFixed(5);
    }
    if (errorCode !== null) {
      m.errorCode = errorCode;
      m.errorMessage = DELIVERY_ERRORS[errorCode] ?? 'Unknown error';
    }
    m.history.push({ status, at: now });
    this.deps.onTransition(m);
  }

  private clearTimer(sid: string): void {
    const t = this.timers.get(sid);
    if (t) this.deps.clock.clearTimer(t);
    this.timers.delete(sid);
  }
}
