import { actionFromOptOutType, consentScopeFor, type KeywordDetector } from '../../sms/keywords';
import { E164, type ConsentScope, type EventOf, type SmsEnvelopeBuilder } from '../../envelope';
import type { InboundParams } from './webhook-params';

/**
 * The sms.consent.changed event an inbound message causes, if any. Twilio's
 * own `OptOutType` (Advanced Opt-Out, which also knows keywords configured in
 * the console) wins over our keyword match; the match still names the
 * keyword and decides the STOPALL (account-wide) scope.
 *
 * HELP is not a consent change and is not published on the consent topic:
 * that topic is compacted by scope + number, so a HELP record would replace,
 * and after compaction erase, an earlier STOP. HELP stays visible on the
 * inbound event (`optOutType`, body).
 */
export function consentEventFor(
  inbound: InboundParams,
  causationId: string,
  keywords: Pick<KeywordDetector, 'detect'>,
  builder: SmsEnvelopeBuilder,
): EventOf<'sms.consent.changed'> | undefined {
  const match = keywords.detect(inbound.body);
  const fromTwilio = actionFromOptOutType(inbound.params.OptOutType);
  const action = fromTwilio ?? match?.action;
  if (action === undefined || action === 'help') return undefined;
  // Consent is keyed by the customer's E.164 number; a short code or
  // alphanumeric sender cannot be opted out by number.
  if (!E164.safeParse(inbound.from).success) return undefined;
  const accountWide = action === 'opt_out' && match?.scope === 'account';
  return builder.consentChanged({
    accountSid: inbound.accountSid,
    action,
    phoneNumber: inbound.from,
    scope: scopeOf(inbound, accountWide),
    via: fromTwilio !== undefined ? 'opt_out_type' : 'keyword',
    ...(match !== undefined ? { keyword: match.keyword } : {}),
    messageSid: inbound.messageSid,
    causationId,
  });
}

/**
 * STOPALL → the account; else the Messaging Service when the number belongs
 * to one (Twilio keeps opt-outs per service), else the number written to. A
 * sender that is not an E.164 number (a short code) falls back to the whole
 * account: over-blocking is the safe side of an opt-out.
 */
function scopeOf(inbound: InboundParams, accountWide: boolean): ConsentScope {
  const to = E164.safeParse(inbound.to).success ? inbound.to : undefined;
  return (
    consentScopeFor(
      { scope: accountWide ? 'account' : 'sender' },
      {
        ...(to ? { to } : {}),
        ...(inbound.messagingServiceSid ? { messagingServiceSid: inbound.messagingServiceSid } : {}),
      },
    ) ?? { kind: 'account' }
  );
}
