import { deterministicEventId, E164, type EventOf, type SmsEnvelopeBuilder } from '../../envelope';
import type { ConsentScope } from '../../envelope';
import type { InboundParams } from './webhook-params';

export type KeywordAction = 'opt_out' | 'opt_in' | 'help';

/** What a body means as a compliance keyword (single word, any case, whitespace ignored). */
export interface KeywordMatch {
  action: KeywordAction;
  /** The keyword, upper-case (e.g. `STOPALL`). */
  keyword: string;
}

export type KeywordClassifier = (body: string) => KeywordMatch | undefined;

const OPT_OUT_TYPE_ACTION: Readonly<Record<string, KeywordAction>> = {
  STOP: 'opt_out',
  START: 'opt_in',
  HELP: 'help',
};

/** STOPALL opts the number out of every sender of the account, not just the one it was sent to. */
const ACCOUNT_WIDE_KEYWORDS: ReadonlySet<string> = new Set(['STOPALL']);

/**
 * The sms.consent.changed events an inbound message causes. Twilio's own
 * `OptOutType` (Advanced Opt-Out, which also knows keywords configured in the
 * console) wins over our keyword match; the match still names the keyword.
 *
 * HELP is not a consent change: on the compacted consent topic (key = scope +
 * number) a HELP record would replace, and after compaction erase, an earlier
 * STOP. It stays visible on the inbound event (`optOutType`, body).
 *
 * A START also clears an account-wide opt-out (a STOPALL), as Twilio does,
 * so it emits a second, account-scoped opt-in with its own id.
 */
export function consentEventsFor(
  inbound: InboundParams,
  causationId: string,
  classify: KeywordClassifier,
  builder: SmsEnvelopeBuilder,
): EventOf<'sms.consent.changed'>[] {
  const match = classify(inbound.body);
  const optOutType = inbound.params.OptOutType?.toUpperCase();
  const fromTwilio = optOutType === undefined ? undefined : OPT_OUT_TYPE_ACTION[optOutType];
  const action = fromTwilio ?? match?.action;
  if (action === undefined || action === 'help') return [];
  // Consent is keyed by the customer's E.164 number; a short code or
  // alphanumeric sender cannot be opted out by number.
  if (!E164.safeParse(inbound.from).success) return [];
  const keyword = match?.keyword;
  const via = fromTwilio !== undefined ? 'opt_out_type' : 'keyword';
  const accountWide = action === 'opt_out' && keyword !== undefined && ACCOUNT_WIDE_KEYWORDS.has(keyword);
  const scope: ConsentScope = accountWide ? { kind: 'account' } : senderScope(inbound);
  const base = {
    accountSid: inbound.accountSid,
    action,
    phoneNumber: inbound.from,
    via,
    ...(keyword !== undefined ? { keyword } : {}),
    messageSid: inbound.messageSid,
    causationId,
  } as const;
  const events = [builder.consentChanged({ ...base, scope })];
  if (action === 'opt_in' && scope.kind !== 'account') {
    events.push(
      withId(
        builder.consentChanged({ ...base, scope: { kind: 'account' } }),
        deterministicEventId('sms.consent.changed', inbound.messageSid, action, 'account'),
      ),
    );
  }
  return events;
}

/**
 * The sender the customer wrote to: the Messaging Service when the number
 * belongs to one (Twilio keeps opt-outs per service), else the number. A
 * sender that is not an E.164 number (a short code) falls back to the whole
 * account: over-blocking is the safe side of an opt-out.
 */
function senderScope(inbound: InboundParams): ConsentScope {
  if (inbound.messagingServiceSid)
    return { kind: 'messaging_service', messagingServiceSid: inbound.messagingServiceSid };
  if (E164.safeParse(inbound.to).success) return { kind: 'sender', sender: inbound.to };
  return { kind: 'account' };
}

function withId(event: EventOf<'sms.consent.changed'>, id: string): EventOf<'sms.consent.changed'> {
  return { ...event, id };
}
