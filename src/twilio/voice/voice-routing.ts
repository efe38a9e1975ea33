import { z } from 'zod';
import { IngressEgressError } from '../../errors';
import type { VoiceRouteAction } from '../../envelope';
import { readConfigDocument } from '../../config/read-config-document';

const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, { message: 'must be an E.164 number such as +15551234567' });
const RULE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const Greeting = z.union([
  z
    .object({
      say: z.string().min(1).max(4000),
      voice: z.string().min(1).optional(),
      language: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ play: z.string().url({ message: 'must be a URL' }) }).strict(),
]);

const VoicemailOptions = {
  greeting: Greeting.optional(),
  /** Longest message, in seconds (Twilio allows up to 4 hours). */
  maxLengthSecs: z.number().int().min(1).max(14400).default(120),
  /** Keys that end the recording (Twilio's finishOnKey: digits, # and *). */
  finishOnKey: z
    .string()
    .regex(/^[0-9#*]{1,12}$/, { message: 'must be digits, # or *' })
    .default('#'),
  playBeep: z.boolean().default(true),
  /** Ask Twilio for a transcription (voice.transcription.completed). */
  transcribe: z.boolean().default(false),
};

const VoicemailRule = z.object({ action: z.literal('voicemail'), ...VoicemailOptions }).strict();

const ForwardRule = z
  .object({
    action: z.literal('forward'),
    /** The number (or numbers, rung at once) the call goes to. */
    to: z.union([E164, z.array(E164).min(1).max(10)]),
    /** Seconds the forwarded call rings before it counts as not answered. */
    timeoutSecs: z.number().int().min(5).max(600).default(20),
    /** Caller id shown on the forwarded call; default the caller's own number. */
    callerId: E164.optional(),
    /** Record the forwarded call from answer, one channel per party (record-from-answer-dual). */
    record: z.boolean().default(false),
    /** When nobody answers (no-answer, busy, failed): take a voicemail instead of hanging up. */
    voicemailWhenUnanswered: z.object(VoicemailOptions).strict().optional(),
  })
  .strict();

const RejectRule = z.object({ action: z.literal('reject') }).strict();
const BusyRule = z.object({ action: z.literal('busy') }).strict();

export const VoiceRule = z.discriminatedUnion('action', [ForwardRule, VoicemailRule, RejectRule, BusyRule]);
export type VoiceRule = z.output<typeof VoiceRule>;
export type VoicemailSettings = Omit<z.output<typeof VoicemailRule>, 'action'>;

/** A rule name or an inline rule; checked entry by entry so an inline rule's own errors keep their paths. */
const RuleOrName = z.union([z.string(), z.record(z.string(), z.unknown())], {
  message: 'must be a rule name or a rule (an object with action forward, voicemail, reject or busy)',
});

export const RoutingFile = z
  .object({
    /** Named rules: what numbers point to, and what outbound call requests may name (`routing`). */
    rules: z
      .record(z.string().regex(RULE_NAME, { message: 'rule names are letters, digits, _ . : -' }), z.unknown())
      .default({}),
    /** Per called number (E.164): a rule name or a rule. */
    numbers: z.record(z.string(), RuleOrName).default({}),
    /** For every number not listed. */
    default: RuleOrName,
  })
  .strict();

export interface ResolvedRoute {
  /** The rule's name: a name from `rules`, else the called number, else `default`. */
  name: string;
  rule: VoiceRule;
}

/** When no routing file is configured: take a voicemail on every number (never leave a call unanswered). */
export const DEFAULT_ROUTING = { default: { action: 'voicemail' } } as const;

/**
 * The call routing of VOICE_ROUTING_FILE, validated once at start-up. Every
 * incoming call gets a rule: its called number's, else the default.
 */
export class VoiceRouting {
  private constructor(
    private readonly named: ReadonlyMap<string, VoiceRule>,
    private readonly byNumber: ReadonlyMap<string, ResolvedRoute>,
    private readonly fallback: ResolvedRoute,
  ) {}

  /** Validates a parsed routing document; throws one IE_CONFIG_INVALID naming every bad entry. */
  static from(doc: unknown, source = 'routing'): VoiceRouting {
    const parsed = RoutingFile.safeParse(doc);
    if (!parsed.success) throw routingError(source, parsed.error.issues.map(describeIssue));
    const file = parsed.data;
    const problems: string[] = [];
    // Rule by rule, so every bad entry of the file is reported at once.
    const named = new Map<string, VoiceRule>();
    for (const [name, raw] of Object.entries(file.rules)) {
      const rule = VoiceRule.safeParse(raw);
      if (rule.success) named.set(name, rule.data);
      else
        for (const issue of rule.error.issues)
          problems.push(describeIssue({ ...issue, path: ['rules', name, ...issue.path] }));
    }
    const resolve = (
      where: string,
      entry: string | Record<string, unknown>,
      fallbackName: string,
    ): ResolvedRoute | undefined => {
      if (typeof entry !== 'string') {
        const inline = VoiceRule.safeParse(entry);
        if (inline.success) return { name: fallbackName, rule: inline.data };
        for (const issue of inline.error.issues)
          problems.push(describeIssue({ ...issue, path: [where, ...issue.path] }));
        return undefined;
      }
      const rule = named.get(entry);
      if (!rule) {
        // A rule that is defined but invalid has its own problems listed already.
        if (!(entry in file.rules)) problems.push(`${where}: names rule "${entry}", which \`rules\` does not define`);
        return undefined;
      }
      return { name: entry, rule };
    };
    const byNumber = new Map<string, ResolvedRoute>();
    for (const [number, entry] of Object.entries(file.numbers)) {
      if (!E164.safeParse(number).success) {
        problems.push(`numbers.${number}: the key must be an E.164 number such as +15551234567`);
        continue;
      }
      const r = resolve(`numbers.${number}`, entry, number);
      if (r) byNumber.set(number, r);
    }
    const fallback = resolve('default', file.default, 'default');
    if (problems.length > 0 || !fallback) throw routingError(source, problems);
    return new VoiceRouting(named, byNumber, fallback);
  }

  /** Reads and validates VOICE_ROUTING_FILE (YAML or JSON, by content); undefined path: DEFAULT_ROUTING. */
  static load(path: string | undefined): VoiceRouting {
    if (path === undefined) return VoiceRouting.from(DEFAULT_ROUTING, 'the built-in routing');
    const doc = readConfigDocument('VOICE_ROUTING_FILE', path);
    return VoiceRouting.from(doc, `VOICE_ROUTING_FILE ${path}`);
  }

  /** The route for a call to `calledNumber`. */
  forCall(calledNumber: string | undefined): ResolvedRoute {
    return (calledNumber && this.byNumber.get(calledNumber)) || this.fallback;
  }

  /** A rule by its name (`rules`, a listed number or `default`), for the dial result and outbound requests. */
  byName(name: string): ResolvedRoute | undefined {
    const rule = this.named.get(name);
    if (rule) return { name, rule };
    if (name === this.fallback.name) return this.fallback;
    return this.byNumber.get(name);
  }
}

export function actionOf(rule: VoiceRule): VoiceRouteAction {
  return rule.action;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(file)';
  if (issue.code === 'invalid_union' && issue.path[issue.path.length - 1] === 'action') {
    return `${where}: must be forward, voicemail, reject or busy`;
  }
  if (issue.code === 'unrecognized_keys')
    return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return `${where}: ${issue.message}`;
}

function routingError(source: string, problems: string[]): IngressEgressError {
  return new IngressEgressError(
    'IE_CONFIG_INVALID',
    `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    { details: { problems } },
  );
}
