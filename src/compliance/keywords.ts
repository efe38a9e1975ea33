/**
 * Opt-out, opt-in and help keywords, as Twilio's Advanced Opt-Out matches
 * them: the whole message body is one keyword, compared without regard to
 * case or surrounding whitespace. Twilio's defaults cannot be removed, only
 * extended, so configured extras add to them.
 */
import { IngressEgressError } from '../errors';
import type { ConsentScope } from '../envelope';

export type KeywordAction = 'opt_out' | 'opt_in' | 'help';

export interface KeywordMatch {
  action: KeywordAction;
  /** The keyword as listed (upper case), e.g. `STOP`. */
  keyword: string;
  /** `account` for STOPALL (every sender of the account), else the sender the message was sent to. */
  scope: 'sender' | 'account';
}

export const DEFAULT_OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
] as const;
export const DEFAULT_OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const DEFAULT_HELP_KEYWORDS = ['HELP', 'INFO'] as const;
/** Opt-out keywords whose scope is the whole account rather than one sender. */
export const ACCOUNT_WIDE_OPT_OUT_KEYWORDS = ['STOPALL'] as const;

export interface KeywordOptions {
  extraOptOut?: readonly string[];
  extraOptIn?: readonly string[];
  extraHelp?: readonly string[];
}

const MAX_KEYWORD_LENGTH = 40;
const ACTION_LABEL: Readonly<Record<KeywordAction, string>> = {
  opt_out: 'an opt-out',
  opt_in: 'an opt-in',
  help: 'a help',
};

/** Canonical form used for both lists and messages: NFC, trimmed, upper case. */
export function canonicalKeyword(text: string): string {
  return text.normalize('NFC').trim().toUpperCase();
}

export class KeywordDetector {
  private readonly byKeyword = new Map<string, KeywordMatch>();

  constructor(options: KeywordOptions = {}) {
    const add = (raw: string, action: KeywordAction, source: string) => {
      const keyword = canonicalKeyword(raw);
      if (keyword === '' || /\s/u.test(keyword) || keyword.length > MAX_KEYWORD_LENGTH) {
        throw new IngressEgressError(
          'IE_CONFIG_INVALID',
          `${source}: keywords must be single words of 1–${MAX_KEYWORD_LENGTH} characters`,
        );
      }
      const existing = this.byKeyword.get(keyword);
      if (existing && existing.action !== action) {
        throw new IngressEgressError(
          'IE_CONFIG_INVALID',
          `${source}: keyword ${keyword} is already ${ACTION_LABEL[existing.action]} keyword`,
        );
      }
      const scope = (ACCOUNT_WIDE_OPT_OUT_KEYWORDS as readonly string[]).includes(keyword) ? 'account' : 'sender';
      this.byKeyword.set(keyword, { action, keyword, scope });
    };
    for (const k of DEFAULT_OPT_OUT_KEYWORDS) add(k, 'opt_out', 'defaults');
    for (const k of DEFAULT_OPT_IN_KEYWORDS) add(k, 'opt_in', 'defaults');
    for (const k of DEFAULT_HELP_KEYWORDS) add(k, 'help', 'defaults');
    for (const k of options.extraOptOut ?? []) add(k, 'opt_out', 'extra opt-out keywords');
    for (const k of options.extraOptIn ?? []) add(k, 'opt_in', 'extra opt-in keywords');
    for (const k of options.extraHelp ?? []) add(k, 'help', 'extra help keywords');
  }

  /** The keyword an inbound body consists of, or undefined when it is anything else. */
  detect(body: string): KeywordMatch | undefined {
    // Longer bodies cannot be a keyword; skip normalising a 1600-character message.
    if (body.length > MAX_KEYWORD_LENGTH + 64) return undefined;
    return this.byKeyword.get(canonicalKeyword(body));
  }

  keywords(action: KeywordAction): string[] {
    return [...this.byKeyword.values()].filter((m) => m.action === action).map((m) => m.keyword);
  }
}

/**
 * The consent scope a keyword applies to: the whole account for STOPALL,
 * the messaging service when the message reached one (Twilio keeps opt-outs
 * per service), else the number it was sent to. Undefined when the message
 * carries neither.
 */
export function consentScopeFor(
  match: Pick<KeywordMatch, 'scope'>,
  received: { to?: string; messagingServiceSid?: string },
): ConsentScope | undefined {
  if (match.scope === 'account') return { kind: 'account' };
  if (received.messagingServiceSid)
    return { kind: 'messaging_service', messagingServiceSid: received.messagingServiceSid };
  if (received.to) return { kind: 'sender', sender: received.to };
  return undefined;
}

/** Twilio's `OptOutType` webhook parameter (Advanced Opt-Out) as a consent action. */
export function actionFromOptOutType(optOutType: string | undefined): KeywordAction | undefined {
  switch (optOutType?.toUpperCase()) {
    case 'STOP':
      return 'opt_out';
    case 'START':
      return 'opt_in';
    case 'HELP':
      return 'help';
    default:
      return undefined;
  }
}
