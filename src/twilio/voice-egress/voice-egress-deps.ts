import type { VoiceEnvelopeBuilder } from '../../envelope';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { DlqWriter } from '../../egress/dlq-writer';
import type { Logger, Metrics } from '../../observability';
import type { Clock, RateLimiter, RetryPolicy } from '../../resilience';
import type { AccountCircuits } from '../egress/account-circuits';
import type { OpenAttempts } from '../egress/attempt-over';
import type { SendFailure } from '../egress/delivery';
import type { SendLedger } from '../egress/send-ledger';
import type { CallValidator } from './call-validator';
import type { TwilioCallsPort } from './twilio-calls-port';

/** The account's do-not-call list (the consent store's `voice` scope). */
export interface DoNotCallCheck {
  isDoNotCall(accountSid: string, phoneNumber: string): boolean;
}

/**
 * Everything the voice stages need, injected. The ledger, the circuits, the
 * DLQ writer and the publisher are the SMS pipeline's own: one ledger, one
 * breaker per account (a Twilio outage is one outage), one DLQ.
 */
export interface VoiceEgressDeps {
  clock: Clock;
  logger: Logger;
  metrics?: Metrics | undefined;
  builder: VoiceEnvelopeBuilder;
  publisher: EventPublisherPort;
  calls: TwilioCallsPort;
  ledger: SendLedger;
  /** Calls per second (TWILIO_VOICE_CPS), apart from the message limiter. */
  limiter: RateLimiter;
  circuits: AccountCircuits;
  retry: RetryPolicy;
  classify: (err: unknown) => SendFailure;
  validator: CallValidator;
  doNotCall: DoNotCallCheck;
  dlq: DlqWriter;
  instanceId: string;
  /** Per-attempt timeout of a Twilio call: how long a placement may still be in flight. */
  twilioTimeoutMs: number;
  /** This process's unanswered placements (a redelivery to this process and a retry wait them out before listing). */
  openAttempts: OpenAttempts;
}
