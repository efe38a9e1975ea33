import { setFlagsFromString } from 'node:v8';
import { z } from 'zod';
import { IngressEgressError } from '../../errors';
import { SmsValidator, TemplateRegistry, type TemplateValue } from '../../sms';
import { canonicalKeyword } from '../../sms/keywords';
import { readConfigDocument } from '../../config/read-config-document';

/**
 * The inbound auto-reply rules of AUTO_REPLY_FILE (docs/auto-replies.md),
 * validated once at start-up: per called number (and for every number) a
 * list of keyword or regular-expression rules whose reply is a text with
 * `{{from}}`, `{{to}}`, `{{body}}` and the pattern's named groups as
 * variables; plus the HELP answer and, only when configured, STOP and START
 * confirmations.
 *
 * Regular expressions are compiled with V8's linear-time engine (the `l`
 * flag, enabled below): a pattern that engine cannot run in time linear in
 * the body (backreferences, look-arounds, nested quantifiers it cannot
 * bound) is refused at start-up, so no pattern and no inbound text can make
 * matching backtrack. A heuristic checker (star height) would still let
 * polynomial patterns such as `\d*\d*\d*x` through; the linear engine has no
 * such hole. The engine has no case-insensitive mode, so patterns are matched
 * against the trimmed body in lower case and must be written in lower case.
 */

// Only makes the `l` flag available; it changes no other regular expression.
setFlagsFromString('--enable-experimental-regexp-engine');

export const MAX_PATTERN_LENGTH = 200;
const MAX_RULES = 200;
const RULE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const BASE_VARIABLES = ['from', 'to', 'body'] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

const Reply = z
  .string()
  .min(1, { message: 'must not be empty' })
  .max(1600, { message: 'is longer than 1600 characters' });

const Rule = z
  .object({
    /** Shown in logs and metrics; default `<number or *>#<index>`. */
    name: z.string().regex(RULE_NAME, { message: 'rule names are letters, digits, _ . : -' }).optional(),
    /** The whole body is this keyword (trimmed, any case), as Twilio matches opt-out keywords. */
    keyword: z.string().min(1).max(40).optional(),
    /** A regular expression tested against the trimmed, lower-cased body. */
    pattern: z
      .string()
      .min(1)
      .max(MAX_PATTERN_LENGTH, { message: `is longer than ${MAX_PATTERN_LENGTH}` })
      .optional(),
    reply: Reply,
  })
  .strict()
  .refine((r) => (r.keyword === undefined) !== (r.pattern === undefined), {
    message: 'needs exactly one of keyword or pattern',
  });

const Settings = {
  /** The answer to HELP/INFO (and COMPLIANCE_EXTRA_HELP_KEYWORDS). */
  help: Reply.optional(),
  /** A STOP confirmation; absent: left to Twilio's Advanced Opt-Out. */
  stop: Reply.optional(),
  /** A START confirmation; absent: left to Twilio's Advanced Opt-Out. */
  start: Reply.optional(),
  rules: z.array(Rule).max(MAX_RULES).default([]),
};

export const AutoReplyFile = z
  .object({ ...Settings, numbers: z.record(z.string(), z.object(Settings).strict()).default({}) })
  .strict();

export type KeywordKind = 'help' | 'stop' | 'start';

export interface AutoReplyMatch {
  /** The rule's name, `help`, `stop` or `start` (prefixed with the number when it is the number's own). */
  rule: string;
  kind: KeywordKind | 'rule';
  text: string;
}

interface CompiledRule {
  name: string;
  keyword?: string;
  pattern?: RegExp;
  template: string;
}

interface CompiledSettings {
  help?: string;
  stop?: string;
  start?: string;
  rules: CompiledRule[];
}

export interface AutoReplyInput {
  /** The number written to (the rules' key). */
  to: string | undefined;
  from: string;
  body: string;
}

/** Rules validated and compiled; `decide` picks the reply of one inbound message, if any. */
export class AutoReplyRules {
  private constructor(
    private readonly everyNumber: CompiledSettings,
    private readonly byNumber: ReadonlyMap<string, CompiledSettings>,
    private readonly templates: TemplateRegistry,
  ) {}

  /** Validates a parsed rules document; throws one IE_CONFIG_INVALID listing every bad entry, one per line. */
  static from(doc: unknown, validator: SmsValidator, source = 'auto-reply rules'): AutoReplyRules {
    const parsed = AutoReplyFile.safeParse(doc);
    if (!parsed.success) throw rulesError(source, parsed.error.issues.map(describeIssue));
    const problems: string[] = [];
    const templates = new TemplateRegistry({ validator });
    let next = 0;
    const add = (where: string, text: string, groups: readonly string[]): string | undefined => {
      const id = `reply-${next++}`;
      return register(templates, id, where, text, groups, problems) ? id : undefined;
    };
    const compile = (where: string, s: z.output<z.ZodObject<typeof Settings>>): CompiledSettings => {
      const out: CompiledSettings = { rules: [] };
      for (const kind of ['help', 'stop', 'start'] as const) {
        const text = s[kind];
        if (text === undefined) continue;
        const id = add(join(where, kind), text, []);
        if (id !== undefined) out[kind] = id;
      }
      const names = new Set<string>();
      s.rules.forEach((r, i) => {
        const at = join(where, `rules.${i}`);
        const name = r.name ?? `${where === '' ? '*' : where.replace(/^numbers\./, '')}#${i}`;
        if (names.has(name)) problems.push(`${at}.name: "${name}" is used twice`);
        names.add(name);
        const rule: CompiledRule = { name, template: '' };
        let groups: string[] = [];
        if (r.keyword !== undefined) rule.keyword = canonicalKeyword(r.keyword);
        if (r.pattern !== undefined) {
          const compiled = compilePattern(r.pattern);
          if (!compiled.ok) {
            problems.push(`${at}.pattern: ${compiled.problem}`);
            return;
          }
          rule.pattern = compiled.regex;
          groups = compiled.groups;
        }
        const id = add(`${at}.reply`, r.reply, groups);
        if (id === undefined) return;
        rule.template = id;
        out.rules.push(rule);
      });
      return out;
    };
    const everyNumber = compile('', parsed.data);
    const byNumber = new Map<string, CompiledSettings>();
    for (const [number, settings] of Object.entries(parsed.data.numbers)) {
      if (!E164.test(number)) {
        problems.push(`numbers.${number}: the key must be an E.164 number such as +15551234567`);
        continue;
      }
      byNumber.set(number, compile(`numbers.${number}`, settings));
    }
    if (problems.length > 0) throw rulesError(source, problems);
    return new AutoReplyRules(everyNumber, byNumber, templates);
  }

  /** Reads and validates AUTO_REPLY_FILE (YAML or JSON, by content). */
  static load(path: string, validator: SmsValidator): AutoReplyRules {
    const doc = readConfigDocument('AUTO_REPLY_FILE', path);
    return AutoReplyRules.from(doc, validator, `AUTO_REPLY_FILE ${path}`);
  }

  /** The configured answer to a HELP, STOP or START keyword, the number's own first. */
  keywordReply(kind: KeywordKind, input: AutoReplyInput): AutoReplyMatch | undefined {
    const own = input.to !== undefined ? this.byNumber.get(input.to) : undefined;
    const id = own?.[kind] ?? this.everyNumber[kind];
    if (id === undefined) return undefined;
    const text = this.render(id, input, {});
    return text === undefined ? undefined : { rule: own?.[kind] ? `${input.to}:${kind}` : kind, kind, text };
  }

  /** The first matching rule's reply: the number's own rules, then those for every number. */
  ruleReply(input: AutoReplyInput): AutoReplyMatch | undefined {
    const own = input.to !== undefined ? this.byNumber.get(input.to) : undefined;
    const keyword = canonicalKeyword(input.body);
    const lowered = input.body.trim().toLowerCase();
    for (const rule of [...(own?.rules ?? []), ...this.everyNumber.rules]) {
      let groups: Record<string, string> = {};
      if (rule.keyword !== undefined) {
        if (rule.keyword !== keyword) continue;
      } else {
        const m = rule.pattern!.exec(lowered);
        if (!m) continue;
        groups = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, v ?? '']));
      }
      const text = this.render(rule.template, input, groups);
      // A reply whose rendered text breaks the body rules is not sent; the next rule is not tried either.
      return text === undefined ? undefined : { rule: rule.name, kind: 'rule', text };
    }
    return undefined;
  }

  private render(id: string, input: AutoReplyInput, groups: Record<string, string>): string | undefined {
    const all: Record<string, TemplateValue> = { from: input.from, to: input.to ?? '', body: input.body, ...groups };
    const values: Record<string, TemplateValue> = {};
    for (const v of this.templates.variablesOf(id) ?? []) values[v] = all[v] ?? '';
    const r = this.templates.render(id, values);
    return r.ok ? r.body : undefined;
  }
}

/** Registers a reply as a template whose variables are the ones it uses; false (and a problem) when it cannot be. */
function register(
  templates: TemplateRegistry,
  id: string,
  where: string,
  text: string,
  groups: readonly string[],
  problems: string[],
): boolean {
  const allowed = new Set<string>([...BASE_VARIABLES, ...groups]);
  const used = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) used.add(m[1]!);
  const unknown = [...used].filter((v) => !allowed.has(v));
  if (unknown.length > 0) {
    const list = (vs: Iterable<string>) => [...vs].map((v) => `{{${v}}}`).join(', ');
    problems.push(`${where}: uses ${list(unknown)}; the variables are ${list(allowed)}`);
    return false;
  }
  try {
    templates.register({ name: id, body: text, variables: [...used] });
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message.replace(/^Invalid template "[^"]*": /, '')}`);
    return false;
  }
  if (used.size === 0) {
    // A fixed text is checked against the body rules now; one with variables when it is rendered.
    const r = templates.render(id, {});
    if (!r.ok) {
      problems.push(`${where}: ${r.reason.replace(/^template "[^"]*" rendered a body that breaks the rules: /, '')}`);
      return false;
    }
  }
  return true;
}

type Compiled = { ok: true; regex: RegExp; groups: string[] } | { ok: false; problem: string };

/** Compiles a pattern with the linear-time engine; explains why one is refused. */
export function compilePattern(pattern: string): Compiled {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, problem: `is longer than ${MAX_PATTERN_LENGTH}` };
  // An upper-case letter that is not an escape (\D, \S, \W, \B) could never match the lower-cased body.
  if (/(^|[^\\])[A-Z]/.test(pattern.replace(/\\\\/g, ''))) {
    return { ok: false, problem: 'is matched against the lower-cased body: write its letters in lower case' };
  }
  let regex: RegExp;
  try {
    // eslint-disable-next-line no-invalid-regexp -- `l` is V8's linear-time engine, enabled at the top of this file
    regex = new RegExp(pattern, 'l');
  } catch (err) {
    const message = (err as Error).message;
    if (/linear time/.test(message)) {
      return {
        ok: false,
        problem:
          'cannot be matched in linear time (backreferences, look-arounds and some nested quantifiers are refused so no message can make matching backtrack)',
      };
    }
    if (/flags/i.test(message)) {
      return { ok: false, problem: "this Node.js has no linear-time regular expression engine (V8's `l` flag)" };
    }
    return {
      ok: false,
      problem: `is not a valid regular expression: ${message.replace(/^Invalid regular expression: /, '')}`,
    };
  }
  const groups = [...pattern.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
  const clash = groups.find((g) => (BASE_VARIABLES as readonly string[]).includes(g));
  if (clash) return { ok: false, problem: `names a group "${clash}", which is one of the built-in variables` };
  return { ok: true, regex, groups };
}

const join = (where: string, what: string) => (where === '' ? what : `${where}.${what}`);

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(file)';
  return `${where}: ${issue.message}`;
}

function rulesError(source: string, problems: string[]): IngressEgressError {
  return new IngressEgressError(
    'IE_CONFIG_INVALID',
    `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    { details: { problems } },
  );
}
