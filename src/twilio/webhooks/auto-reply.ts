import { twiml } from 'twilio';
import { valueWithin } from '../../common/deadline';
import { deterministicEventId, type EventOf, type SmsEnvelopeBuilder } from '../../envelope';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger } from '../../observability';
import { analyzeSms } from '../../sms';
import { actionFromOptOutType, type KeywordDetector } from '../../sms/keywords';
import type { AutoReplyMatch, AutoReplyRules } from './auto-reply-rules';
import { EMPTY_TWIML } from './webhook-replies';
import type { InboundParams } from './webhook-params';

/** The opt-out list as the auto-replier needs it (the egress consent check). */
export interface AutoReplyConsent {
  /** False until the consent topic is loaded: no reply is sent on a list that may miss a STOP. */
  ready(): boolean;
  isOptedOut(q: {
    accountSid: string;
    phoneNumber: string;
    from: string | undefined;
    messagingServiceSid: string | undefined;
  }): boolean;
}

export interface AutoReplierDeps {
  rules: AutoReplyRules;
  keywords: Pick<KeywordDetector, 'detect'>;
  consent: AutoReplyConsent;
  builder: SmsEnvelopeBuilder;
  publisher: EventPublisherPort;
  logger: Logger;
  /** TWILIO_STATUS_CALLBACK_URL: given as the reply's `action`, so Twilio reports the reply's SID and statuses there. */
  statusCallbackUrl: string | undefined;
}

export type AutoReplySkip = 'no_rule' | 'opted_out' | 'consent_not_loaded' | 'not_stored';

export type AutoReplyAnswer =
  | { twiml: string; sent: true; rule: string; record: EventOf<'sms.outbound.accepted'> }
  | { twiml: string; sent: false; skipped: AutoReplySkip };

/**
 * Decides an inbound message's auto-reply, after its sms.inbound.received
 * event is on Kafka (the route calls it only then). A reply is answered as
 * TwiML `<Message>` only once its `sms.outbound.accepted` record (via
 * `twiml_reply`) is acknowledged on the outcomes topic: nothing is texted
 * that the event log does not show. Any doubt (the opt-out list not loaded,
 * the record not stored in time) answers the empty TwiML: no reply.
 */
export class AutoReplier {
  constructor(private readonly deps: AutoReplierDeps) {}

  /** The TwiML to answer with; never throws (the inbound message is already safe on Kafka). */
  async answer(inbound: InboundParams, deadlineMs: number): Promise<AutoReplyAnswer> {
    const match = this.decide(inbound);
    if ('skipped' in match) return { twiml: EMPTY_TWIML, sent: false, skipped: match.skipped };
    const record = this.recordOf(inbound, match.reply);
    try {
      await valueWithin(
        this.deps.publisher.publish(record),
        deadlineMs,
        () => new Error(`not acknowledged within ${deadlineMs} ms`),
      );
    } catch (err) {
      this.deps.logger.warn(
        { err, rule: match.reply.rule, messageSid: inbound.messageSid },
        'auto-reply not sent: its outcome record was not stored on Kafka in time',
      );
      return { twiml: EMPTY_TWIML, sent: false, skipped: 'not_stored' };
    }
    const response = new twiml.MessagingResponse();
    const url = this.deps.statusCallbackUrl;
    response.message(url !== undefined ? { action: url, method: 'POST' } : {}, match.reply.text);
    return { twiml: response.toString(), sent: true, rule: match.reply.rule, record };
  }

  private decide(inbound: InboundParams): { reply: AutoReplyMatch } | { skipped: AutoReplySkip } {
    const { rules, keywords, consent } = this.deps;
    const input = { to: inbound.to, from: inbound.from, body: inbound.body };
    const action = actionFromOptOutType(inbound.params.OptOutType) ?? keywords.detect(inbound.body)?.action;
    // A STOP or START confirmation answers the consent change itself (what Twilio's Advanced Opt-Out does
    // when it is on); it is the one reply an opted-out number gets, and only when configured.
    if (action === 'opt_out' || action === 'opt_in') {
      const reply = rules.keywordReply(action === 'opt_out' ? 'stop' : 'start', input);
      return reply ? { reply } : { skipped: 'no_rule' };
    }
    const reply = action === 'help' ? rules.keywordReply('help', input) : rules.ruleReply(input);
    if (!reply) return { skipped: 'no_rule' };
    if (!consent.ready()) return { skipped: 'consent_not_loaded' };
    const optedOut = consent.isOptedOut({
      accountSid: inbound.accountSid,
      phoneNumber: inbound.from,
      from: inbound.to,
      messagingServiceSid: inbound.messagingServiceSid,
    });
    return optedOut ? { skipped: 'opted_out' } : { reply };
  }

  /**
   * The outcome record of a TwiML reply: the shape of every send's `sms.outbound.accepted`, keyed (subject) by the
   * customer's number like any outcome, with a request id derived from the inbound MessageSid (a redelivered
   * webhook gives the same record id). Its `messageSid` is absent: Twilio assigns it after our answer.
   */
  private recordOf(inbound: InboundParams, reply: AutoReplyMatch): EventOf<'sms.outbound.accepted'> {
    const inboundEventId = deterministicEventId('sms.inbound.received', inbound.messageSid);
    const requestId = autoReplyRequestId(inbound.messageSid);
    const sms = analyzeSms(reply.text);
    return this.deps.builder.build('sms.outbound.accepted', {
      id: deterministicEventId('sms.outbound.accepted', requestId, ''),
      accountSid: inbound.accountSid,
      messagingServiceSid: inbound.messagingServiceSid,
      subject: inbound.from,
      correlationId: inboundEventId,
      causationId: inboundEventId,
      data: {
        requestId,
        to: inbound.from,
        status: 'accepted',
        numSegments: sms.segments,
        encoding: sms.encoding,
        attempts: 1,
        deduplicated: false,
        via: 'twiml_reply',
        inReplyTo: inbound.messageSid,
      },
    });
  }
}

/** The request id of the auto-reply to an inbound message. */
export function autoReplyRequestId(inboundMessageSid: string): string {
  return `auto-reply-${inboundMessageSid}`;
}
