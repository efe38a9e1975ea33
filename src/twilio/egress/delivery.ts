import type { DataOf, EventOf } from '../../envelope';
import type { CircuitPermit } from '../../resilience';
import type { EgressContext } from '../../connector/connector';
import type { LedgerEntry } from './send-ledger';

export type OutboundRequest = EventOf<'sms.outbound.requested'>;

/** What one recipient of a request ended as; the outcome stage turns it into exactly one event. */
export type Decision =
  | { type: 'sms.outbound.accepted'; data: DataOf<'sms.outbound.accepted'> }
  | { type: 'sms.outbound.rejected'; data: DataOf<'sms.outbound.rejected'> }
  | { type: 'sms.outbound.failed'; data: DataOf<'sms.outbound.failed'>; stage: string };

/** The message as it goes to Twilio, once validated and rendered. */
export interface OutboundMessage {
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
  /** The body as Twilio stores it when smart encoding rewrote characters (reconciliation compares both). */
  bodyAsSent?: string | undefined;
  mediaUrls: string[];
  statusCallback: string | undefined;
  sendAt: Date | undefined;
  validityPeriodSecs: number | undefined;
  smartEncoded: boolean | undefined;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  conversationSid: string | undefined;
}

/** A classified failure of one call to Twilio (see classify-send-error.ts). */
export interface SendFailure {
  /** The error map's type (metrics label `error_type`). */
  type: string;
  retriable: boolean;
  /** The request may have been executed (timeout, reset after sending): reconcile before resending. */
  ambiguous: boolean;
  /** Twilio says the recipient opted out (21610): publish a consent change. */
  consent: boolean;
  /** Twilio looks down (5xx, timeout, network): counts against the circuit breaker. */
  outage: boolean;
  /** A configuration problem (credentials, unknown account): failed, not rejected. */
  configuration: boolean;
  retryAfterMs?: number | undefined;
  twilioErrorCode?: number | undefined;
  status?: number | undefined;
  /** Safe to log and to put in an outcome: no number, no body. */
  message: string;
}

/**
 * Everything the stages know about one (request, recipient). Stages read and
 * fill it in order; only the outcome stage publishes.
 */
export interface Delivery {
  request: OutboundRequest;
  /**
   * The recipient: its E.164 number when it parses (every spelling of one number is one recipient, texted once),
   * else as written (it is rejected by validate). A Conversations reply's `to` as written. The ledger key uses it.
   */
  recipient: string;
  /** '' for a single-recipient request; the recipient for a bulk one (outcome ids differ per recipient). */
  discriminator: string;
  ledgerKey: string;
  /**
   * The keys of this recipient's spellings in the request that differ from `recipient` (`+1 501-712-2661`): ledger
   * entries written before recipients were normalised were keyed by the spelling, and must still answer a
   * redelivered request. The ledger stage reads them besides `ledgerKey`; nothing is written under them.
   */
  writtenKeys: string[];
  context: EgressContext;
  /** Filled by validate. */
  message?: OutboundMessage;
  /** A ledger intent found on arrival (an earlier attempt may have sent the message). */
  recovered?: LedgerEntry;
  /** When this delivery's first attempt began (reconciliation lists from here). */
  attemptAt?: number;
  intentWritten: boolean;
  /** Failed reconciliation calls so far (they back off like sends). */
  reconcileAttempts?: number;
  attempts: number;
  /** Set when an attempt may have created the message: reconcile before the next one. */
  ambiguous: boolean;
  /**
   * When the last call to Twilio began. After an ambiguous failure Twilio may still execute that request (it was
   * sent; our side only stopped waiting), so reconciliation waits until it must be over (see attempt-over.ts).
   */
  lastAttemptAt?: number;
  lastFailure?: SendFailure;
  permit?: CircuitPermit;
  decision?: Decision;
  /** Writes (ledger, consent) that must be durable before the outcome counts as done. */
  pending: Promise<unknown>[];
}

/**
 * Adds a write the outcome stage must wait for. It is marked handled at once:
 * if it fails before the outcome stage awaits it, the process must not see an
 * unhandled rejection (Node ends the process on one).
 */
export function addPending(d: Delivery, p: Promise<unknown>): void {
  p.catch(() => undefined);
  d.pending.push(p);
}
