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

export interface KeywordProblem {
  /** Which option holds the bad keyword. */
  option: keyof KeywordOptions;
  message: string;
}

const OPTION_OF: Readonly<Record<KeywordAction, keyof KeywordOptions>> = {
  opt_out: 'extraOptOut',
  opt_in: 'extraOptIn',
  help: 'extraHelp',
};

/**
 * What is wrong with configured extras: keywords that are not single words,
 * or that already mean another action (defaults included). Empty when fine.
 */
export function keywordConflicts(options: KeywordOptions): KeywordProblem[] {
  const problems: KeywordProblem[] = [];
  const seen = new Map<string, KeywordAction>();
  const add = (raw: string, action: KeywordAction, extra: boolean) => {
    const keyword = canonicalKeyword(raw);
    if (keyword === '' || /\s/u.test(keyword) || keyword.length > MAX_KEYWORD_LENGTH) {
      problems.push({
        option: OPTION_OF[action],
        message: `keywords must be single words of 1–${MAX_KEYWORD_LENGTH} characters`,
      });
      return;
    }
    const existing = seen.get(keyword);
    if (existing !== undefined && existing !== action && extra) {
      problems.push({
        option: OPTION_OF[action],
        message: `keyword ${keyword} is already ${ACTION_LABEL[existing]} keyword`,
      });
      return;
    }
    seen.set(keyword, action);
  };
  for (const k of DEFAULT_OPT_OUT_KEYWORDS) add(k, 'opt_out', false);
  for (const k of DEFAULT_OPT_IN_KEYWORDS) add(k, 'opt_in', false);
  for (const k of DEFAULT_HELP_KEYWORDS) add(k, 'help', false);
  for (const k of options.extraOptOut ?? []) add(k, 'opt_out', true);
  for (const k of options.extraOptIn ?? []) add(k, 'opt_in', true);
  for (const k of options.extraHelp ?? []) add(k, 'help', true);
  return problems;
}

export class KeywordDetector {
  private readonly byKeyword = new Map<string, KeywordMatch>();

  /** Throws IE_CONFIG_INVALID when keywordConflicts(options) finds a problem. */
  constructor(options: KeywordOptions = {}) {
    const problem = keywordConflicts(options)[0];
    if (problem) throw new IngressEgressError('IE_CONFIG_INVALID', `${problem.option}: ${problem.message}`);
    const lists: [readonly string[], KeywordAction][] = [
      [DEFAULT_OPT_OUT_KEYWORDS, 'opt_out'],
      [DEFAULT_OPT_IN_KEYWORDS, 'opt_in'],
      [DEFAULT_HELP_KEYWORDS, 'help'],
      [options.extraOptOut ?? [], 'opt_out'],
      [options.extraOptIn ?? [], 'opt_in'],
      [options.extraHelp ?? [], 'help'],
    ];
    for (const [list, action] of lists) {
      for (const raw of list) {
        const keyword = canonicalKeyword(raw);
        const scope = (ACCOUNT_WIDE_OPT_OUT_KEYWORDS as readonly string[]).includes(keyword) ? 'account' : 'sender';
        this.byKeyword.set(keyword, { action, keyword, scope });
      }
    }
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
