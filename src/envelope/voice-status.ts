import type { CallStatus } from './voice-schema';

/**
 * Where each status sits in a call's life. Status callbacks can arrive out of
 * order; Twilio numbers them (SequenceNumber) and the rank breaks ties when a
 * callback has none. The five ends share the highest rank.
 */
export const CALL_STATUS_RANK: Readonly<Record<CallStatus, number>> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 4,
  'no-answer': 4,
  failed: 4,
  canceled: 4,
};

export function isTerminalCallStatus(status: CallStatus): boolean {
  return CALL_STATUS_RANK[status] === 4;
}

/** `<Dial>` results that mean nobody took the forwarded call: what a missed-call service acts on. */
export function isAnsweredDial(dialCallStatus: string): boolean {
  return dialCallStatus === 'completed' || dialCallStatus === 'answered';
}
