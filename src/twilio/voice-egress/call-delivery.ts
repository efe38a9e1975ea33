import type { DataOf, EventOf } from '../../envelope';
import type { CircuitPermit } from '../../resilience';
import type { EgressContext } from '../../connector/connector';
import type { SendFailure } from '../egress/delivery';

export type CallRequest = EventOf<'voice.call.requested'>;
export type CallEndRequest = EventOf<'voice.call.end_requested'>;

/** What a call request ended as; the outcome stage turns it into exactly one event. */
export type CallDecision =
  | { type: 'voice.call.accepted'; data: DataOf<'voice.call.accepted'> }
  | { type: 'voice.call.rejected'; data: DataOf<'voice.call.rejected'> }
  | { type: 'voice.call.failed'; data: DataOf<'voice.call.failed'>; stage: string };

/** The call as it goes to Twilio, once validated. */
export interface OutboundCall {
  /** E.164 after normalisation. */
  to: string;
  /** The caller id (E.164): the request's `from`, else TWILIO_PHONE_NUMBER. */
  from: string;
  /** The request's TwiML, or the routing rule's. */
  twiml: string;
  record: boolean;
  recordingStatusCallback: string | undefined;
  machineDetection: 'Enable' | 'DetectMessageEnd' | undefined;
  statusCallback: string | undefined;
  statusCallbackEvents: readonly string[] | undefined;
  timeoutSecs: number | undefined;
  timeLimitSecs: number | undefined;
}

/**
 * Everything the voice stages know about one call request. Stages read and
 * fill it in order; only the outcome stage publishes.
 */
export interface CallDelivery {
  request: CallRequest;
  /** `requestId|to` as written in the request (the send ledger's key). */
  ledgerKey: string;
  context: EgressContext;
  /** Filled by validate. */
  call?: OutboundCall;
  /** When the first attempt began (reconciliation lists calls from here). */
  attemptAt?: number;
  intentWritten: boolean;
  reconcileAttempts?: number;
  attempts: number;
  /** Set when an attempt may have placed the call: reconcile before the next one. */
  ambiguous: boolean;
  lastFailure?: SendFailure;
  permit?: CircuitPermit;
  decision?: CallDecision;
  /** Writes (the ledger's `sent`) that must be durable before the outcome counts as done. */
  pending: Promise<unknown>[];
}

/** A write the outcome stage waits for, marked handled at once (no unhandled rejection if it fails early). */
export function addPending(d: CallDelivery, p: Promise<unknown>): void {
  p.catch(() => undefined);
  d.pending.push(p);
}
