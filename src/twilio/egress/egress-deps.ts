import type { TopicNames } from '../../config';
import type { SmsEnvelopeBuilder } from '../../envelope';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import type { Clock, RateLimiter, RetryPolicy } from '../../resilience';
import type { ConversationReply, ConversationReplyResult } from '../conversations/send-conversation-reply';
import type { AccountCircuits } from './account-circuits';
import type { OpenAttempts } from './attempt-over';
import type { OutboundMessage, OutboundRequest, SendFailure } from './delivery';
import type { DlqWriter } from '../../egress/dlq-writer';
import type { SendLedger } from './send-ledger';
import type { TwilioMessagesPort } from './twilio-messages-port';

export type ValidationResult =
  | { ok: true; message: OutboundMessage }
  | { ok: false; code: string; reason: string; twilioErrorCode?: number | undefined };

/** Turns a request and one of its recipients into the message to send, or a rejection with a stable code. */
export interface OutboundValidator {
  validate(request: OutboundRequest, recipient: string): ValidationResult;
  /**
   * The recipient as ledger keys and outcome ids know it: the E.164 number validate would send to, or the
   * recipient as written when it is not one (validate rejects it) or the request replies into a Conversation.
   */
  recipientKey(request: OutboundRequest, recipient: string): string;
}

/** Whether the recipient opted out of this sender (a number, a messaging service) or of the whole account. */
export interface ConsentCheck {
  isOptedOut(q: {
    accountSid: string;
    phoneNumber: string;
    from: string | undefined;
    messagingServiceSid: string | undefined;
  }): boolean;
  /** Whether the number is on the account's do-not-call list (consent scope `voice`): outbound calls only. */
  isDoNotCall(q: { accountSid: string; phoneNumber: string }): boolean;
}

/** Everything the stages need, injected (the clock too). */
export interface EgressDeps {
  clock: Clock;
  logger: Logger;
  metrics?: Metrics | undefined;
  builder: SmsEnvelopeBuilder;
  publisher: EventPublisherPort;
  topics: TopicNames;
  twilio: TwilioMessagesPort;
  ledger: SendLedger;
  limiter: RateLimiter;
  circuits: AccountCircuits;
  retry: RetryPolicy;
  classify: (err: unknown) => SendFailure;
  validator: OutboundValidator;
  consent: ConsentCheck;
  dlq: DlqWriter;
  /** This process: a restarted process is a new owner of the intents it finds. */
  instanceId: string;
  /** Per-attempt timeout of a Twilio call: how long an earlier owner's send may still be in flight. */
  twilioTimeoutMs: number;
  /** This process's unanswered calls to Twilio (a redelivery to this process waits them out before reconciling). */
  openAttempts: OpenAttempts;
  /** Posts a reply into a Conversation (requests carrying conversationSid); absent when Conversations is off. */
  conversationReply?: ((reply: ConversationReply) => Promise<ConversationReplyResult>) | undefined;
  /** Resolves once the opt-out list has caught up with the consent topic (awaited before any record). */
  consentReady?: (() => Promise<void>) | undefined;
}
