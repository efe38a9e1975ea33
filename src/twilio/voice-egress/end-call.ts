import { isTerminalCallStatus, type CallStatus } from '../../envelope';
import { EgressError } from '../../egress/egress-errors';
import { sleep, type Clock, type RetryPolicy } from '../../resilience';
import { recordTwilioError } from '../rest/error-code-label';
import type { Metrics } from '../../observability';
import type { AccountCircuits } from '../egress/account-circuits';
import type { SendFailure } from '../egress/delivery';
import { callStatus } from './call-decisions';
import type { TwilioCall, TwilioCallsPort } from './twilio-calls-port';

export interface EndCallDeps {
  calls: TwilioCallsPort;
  circuits: AccountCircuits;
  retry: RetryPolicy;
  classify: (err: unknown) => SendFailure;
  clock: Clock;
  metrics?: Metrics | undefined;
}

export type EndCallResult =
  /** Twilio hung the call up now. */
  | { kind: 'ended'; call: TwilioCall; status: CallStatus; attempts: number }
  /** The call had already ended (a redelivered request, or the callee hung up first). */
  | { kind: 'already_ended'; call: TwilioCall; status: CallStatus; attempts: number }
  /** Twilio refused for good (unknown call, credentials): `failure` says why. */
  | { kind: 'rejected'; failure: SendFailure; attempts: number };

/**
 * `Status=completed` on a live call, through the account's circuit breaker
 * and the retry policy (the end-call request of Kafka egress and the
 * operator endpoint share it). An end that Twilio refuses is checked against
 * the call: one that already ended answers as the first end did. Throws
 * IE_EGRESS_TWILIO_UNAVAILABLE (retriable) when Twilio kept failing.
 */
export async function endCall(
  deps: EndCallDeps,
  accountSid: string,
  callSid: string,
  signal: AbortSignal,
  maxAttempts?: number,
): Promise<EndCallResult> {
  const breaker = deps.circuits.for(accountSid);
  for (let attempt = 1; ; attempt++) {
    const permit = await breaker.acquire(signal);
    try {
      const call = await deps.calls.end(accountSid, callSid);
      permit.success();
      return { kind: 'ended', call, status: callStatus(call.status), attempts: attempt };
    } catch (err) {
      const f = deps.classify(err);
      if (f.outage) permit.failure();
      else permit.success();
      recordTwilioError(deps.metrics, f);
      if (!f.retriable || f.configuration) {
        const ended = f.type === 'auth' ? undefined : await endedCall(deps, accountSid, callSid);
        if (ended) return { kind: 'already_ended', call: ended, status: callStatus(ended.status), attempts: attempt };
        return { kind: 'rejected', failure: f, attempts: attempt };
      }
      if (!deps.retry.shouldRetry(f, attempt) || (maxAttempts !== undefined && attempt >= maxAttempts)) {
        throw new EgressError('IE_EGRESS_TWILIO_UNAVAILABLE', `ending a call failed after ${attempt} attempts`, {
          cause: err,
          retryAfterMs: f.retryAfterMs,
        });
      }
      await sleep(deps.clock, deps.retry.delayMs(attempt, f), signal);
    }
  }
}

async function endedCall(deps: EndCallDeps, accountSid: string, callSid: string): Promise<TwilioCall | undefined> {
  try {
    const call = await deps.calls.fetch(accountSid, callSid);
    return isTerminalCallStatus(callStatus(call.status)) ? call : undefined;
  } catch {
    return undefined;
  }
}
