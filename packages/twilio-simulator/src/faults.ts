import { z } from 'zod';
import type { SeededRng } from './rng';

/**
 * Programmable faults for the REST API. Rules are plain JSON so tests can add
 * them in-process or over HTTP (`POST /__sim/faults`). Each request first adds
 * up the latency of every matching latency rule, then takes the first matching
 * terminal rule (429, 5xx, Twilio error, hang, reset) that fires.
 */
export type RestOperation = 'create' | 'fetch' | 'list' | 'update' | 'delete';
/** The REST resource a request is for. */
export type RestResource = 'messages' | 'calls' | 'recordings';

const matchSchema = z
  .object({
    operation: z.enum(['create', 'fetch', 'list', 'update', 'delete', 'any']).optional(),
    /** Messages, Calls or Recordings; absent matches all. */
    resource: z.enum(['messages', 'calls', 'recordings']).optional(),
    accountSid: z.string().optional(),
    /** Recipient of a create (exact E.164). */
    to: z.string().optional(),
    /** Sender of a create (From or MessagingServiceSid). */
    from: z.string().optional(),
  })
  .strict();

const common = {
  match: matchSchema.optional(),
  /** Apply to the next N matching requests only, then retire. */
  times: z.number().int().positive().optional(),
  /** Fire with this probability (seeded RNG). */
  probability: z.number().min(0).max(1).optional(),
};

/** `after: 'create'` lets the request create the message first: the ambiguous case. */
const afterSchema = z.enum(['receive', 'create']).optional();

export const faultRuleSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('latency'), ms: z.number().min(0), jitterMs: z.number().min(0).optional(), ...common })
    .strict(),
  z
    .object({
      kind: z.literal('rate-limit'),
      retryAfterSeconds: z.number().int().min(0).optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal('server-error'),
      status: z.number().int().min(500).max(599).optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal('twilio-error'),
      status: z.number().int().min(400).max(599),
      code: z.number().int().positive(),
      message: z.string().optional(),
      ...common,
    })
    .strict(),
  z.object({ kind: z.literal('hang'), after: afterSchema, ...common }).strict(),
  z.object({ kind: z.literal('reset'), after: afterSchema, ...common }).strict(),
]);

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultMatch = z.infer<typeof matchSchema>;
export type TerminalFault = Exclude<FaultRule, { kind: 'latency' }>;

export interface FaultContext {
  operation: RestOperation;
  resource?: RestResource | undefined;
  accountSid: string;
  to?: string | undefined;
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
}

export interface FaultDecision {
  latencyMs: number;
  terminal: TerminalFault | undefined;
}

interface ActiveRule {
  id: string;
  rule: FaultRule;
  remaining: number;
  fired: number;
}

export interface FaultView {
  id: string;
  rule: FaultRule;
  fired: number;
  remaining: number | null;
}

const NO_FAULT: FaultDecision = { latencyMs: 0, terminal: undefined };

export class FaultRegistry {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  constructor(private readonly rng: SeededRng) {}

  /** Validates and adds a rule; returns its id (for `remove`). */
  add(rule: FaultRule): string {
    const parsed = faultRuleSchema.parse(rule);
    const id = `fault-${this.nextId++}`;
    this.rules.push({ id, rule: parsed, remaining: parsed.times ?? Infinity, fired: 0 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultView[] {
    return this.rules.map((r) => ({
      id: r.id,
      rule: r.rule,
      fired: r.fired,
      remaining: Number.isFinite(r.remaining) ? r.remaining : null,
    }));
  }

  get size(): number {
    return this.rules.length;
  }

  evaluate(ctx: FaultContext): FaultDecision {
    if (this.rules.length === 0) return NO_FAULT;
    let latencyMs = 0;
    let terminal: TerminalFault | undefined;
    for (const r of this.rules) {
      if (r.remaining <= 0 || !matches(r.rule.match, ctx)) continue;
      if (r.rule.kind !== 'latency' && terminal) continue;
      if (r.rule.probability !== undefined && !this.rng.chance(r.rule.probability)) continue;
      r.remaining -= 1;
      r.fired += 1;
      if (r.rule.kind === 'latency') {
        latencyMs += r.rule.ms + (r.rule.jitterMs ? Math.floor(this.rng.next() * r.rule.jitterMs) : 0);
      } else {
        terminal = r.rule;
      }
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return { latencyMs, terminal };
  }
}

function matches(match: FaultMatch | undefined, ctx: FaultContext): boolean {
  if (!match) return true;
  if (match.operation && match.operation !== 'any' && match.operation !== ctx.operation) return false;
  if (match.resource && match.resource !== (ctx.resource ?? 'messages')) return false;
  if (match.accountSid && match.accountSid !== ctx.accountSid) return false;
  if (match.to && match.to !== ctx.to) return false;
  if (match.from && match.from !== ctx.from && match.from !== ctx.messagingServiceSid) return false;
  return true;
}
