/**
 * Named message templates with declared variables.
 *
 * Syntax and escaping (also in docs/sms.md):
 * - `{{name}}` (spaces inside the braces allowed) is replaced by the value of
 *   the declared variable `name` (`[A-Za-z_][A-Za-z0-9_]*`).
 * - `\{` renders `{` and `\\` renders `\`; any other backslash is literal.
 *   So `\{{name}}` renders the text `{{name}}`.
 * - Any other `{{` is a definition error; single braces and `}}` are literal.
 * - Values are inserted verbatim: SMS is plain text, so there is no HTML or
 *   URL escaping, no trimming, and a value is never parsed as a template
 *   (a value containing `{{x}}` stays literal text).
 * Rendering is concatenation of pre-compiled parts, so a render costs no
 * parsing; the output then has to pass the same body rules as any message.
 */
import { IngressEgressError } from '../errors';
import type { SmsEncodingInfo } from './encoding';
import type { SmsRejectionCode, SmsValidator } from './validate';

export type TemplateValue = string | number | boolean;

export interface TemplateVariableSpec {
  /** Required JavaScript type of the value (default: any of string, number, boolean). */
  type?: 'string' | 'number' | 'boolean';
  /** Longest value accepted, in UTF-16 units after conversion to text. */
  maxLength?: number;
}

export interface TemplateDefinition {
  name: string;
  body: string;
  /** Every placeholder must be declared here, and every declared variable must be used. */
  variables: readonly string[] | Readonly<Record<string, TemplateVariableSpec>>;
  description?: string;
}

export const TEMPLATE_REJECTION_CODES = [
  'SMS_TEMPLATE_UNKNOWN',
  'SMS_TEMPLATE_VARIABLE_MISSING',
  'SMS_TEMPLATE_VARIABLE_EXTRA',
  'SMS_TEMPLATE_VARIABLE_INVALID',
] as const;
export type TemplateRejectionCode = (typeof TEMPLATE_REJECTION_CODES)[number];

export type RenderResult =
  | { ok: true; body: string; encoding: SmsEncodingInfo }
  | { ok: false; code: TemplateRejectionCode | SmsRejectionCode; reason: string };

/** A template that cannot be registered: a configuration mistake found at start-up, never retried. */
export class TemplateDefinitionError extends IngressEgressError {
  constructor(template: string, problem: string) {
    super('IE_CONFIG_INVALID', `Invalid template "${template}": ${problem}`, { details: { template } });
  }
}

type Part = string | { variable: string };

interface CompiledTemplate {
  readonly name: string;
  readonly parts: readonly Part[];
  readonly variables: ReadonlyMap<string, TemplateVariableSpec>;
  readonly description: string | undefined;
}

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;

export interface TemplateRegistryOptions {
  /** The same validator the egress pipeline uses, so rendered output meets the same body rules. */
  validator: SmsValidator;
}

export class TemplateRegistry {
  private readonly templates = new Map<string, CompiledTemplate>();
  private readonly validator: SmsValidator;

  constructor(options: TemplateRegistryOptions, definitions: readonly TemplateDefinition[] = []) {
    this.validator = options.validator;
    for (const d of definitions) this.register(d);
  }

  /** Adds a template; throws TemplateDefinitionError for a bad definition or a duplicate name (unless `replace`). */
  register(definition: TemplateDefinition, options: { replace?: boolean } = {}): void {
    const { name } = definition;
    if (!NAME.test(name)) throw new TemplateDefinitionError(name, 'the name must be 1–100 of A–Z a–z 0–9 _ . : -');
    if (this.templates.has(name) && !options.replace) {
      throw new TemplateDefinitionError(name, 'a template with this name is already registered');
    }
    const variables = new Map<string, TemplateVariableSpec>(
      Array.isArray(definition.variables)
        ? (definition.variables as readonly string[]).map((v) => [v, {}])
        : Object.entries(definition.variables as Readonly<Record<string, TemplateVariableSpec>>),
    );
    for (const v of variables.keys()) {
      if (!VARIABLE.test(v)) throw new TemplateDefinitionError(name, `variable "${v}" is not a valid identifier`);
    }
    const parts = compile(name, definition.body);
    const used = new Set(parts.flatMap((p) => (typeof p === 'string' ? [] : [p.variable])));
    for (const v of used) {
      if (!variables.has(v)) throw new TemplateDefinitionError(name, `placeholder {{${v}}} is not declared`);
    }
    for (const v of variables.keys()) {
      if (!used.has(v)) throw new TemplateDefinitionError(name, `declared variable "${v}" is never used`);
    }
    this.templates.set(name, { name, parts, variables, description: definition.description });
  }

  has(name: string): boolean {
    return this.templates.has(name);
  }

  names(): string[] {
    return [...this.templates.keys()];
  }

  /** The declared variables of a template, or undefined when unknown. */
  variablesOf(name: string): string[] | undefined {
    const t = this.templates.get(name);
    return t ? [...t.variables.keys()] : undefined;
  }

  /**
   * Renders a template. Unknown templates, missing, extra or ill-typed
   * variables, and output that breaks the body rules are rejections with a
   * stable code; reasons name variables but never quote their values.
   */
  render(
    name: string,
    values: Readonly<Record<string, TemplateValue | null | undefined>>,
    options: { smartEncoded?: boolean } = {},
  ): RenderResult {
    const t = this.templates.get(name);
    if (!t) return { ok: false, code: 'SMS_TEMPLATE_UNKNOWN', reason: `no template named "${name}"` };

    const missing = [...t.variables.keys()].filter((v) => values[v] === undefined || values[v] === null);
    if (missing.length > 0) {
      return {
        ok: false,
        code: 'SMS_TEMPLATE_VARIABLE_MISSING',
        reason: `template "${name}" needs ${missing.map((v) => `"${v}"`).join(', ')}`,
      };
    }
    const extra = Object.keys(values).filter((v) => !t.variables.has(v));
    if (extra.length > 0) {
      return {
        ok: false,
        code: 'SMS_TEMPLATE_VARIABLE_EXTRA',
        reason: `template "${name}" does not declare ${extra.map((v) => `"${v}"`).join(', ')}`,
      };
    }

    const text = new Map<string, string>();
    for (const [v, spec] of t.variables) {
      const value = values[v] as TemplateValue;
      const problem = checkValue(value, spec);
      if (problem) {
        return { ok: false, code: 'SMS_TEMPLATE_VARIABLE_INVALID', reason: `variable "${v}" ${problem}` };
      }
      text.set(v, String(value));
    }

    let body = '';
    for (const p of t.parts) body += typeof p === 'string' ? p : (text.get(p.variable) ?? '');
    const checked = this.validator.checkBody(body, options);
    if (!checked.ok) {
      return {
        ok: false,
        code: checked.rejection.code,
        reason: `template "${name}" rendered a body that breaks the rules: ${checked.rejection.reason}`,
      };
    }
    return { ok: true, body, encoding: checked.encoding };
  }
}

function checkValue(value: TemplateValue, spec: TemplateVariableSpec): string | undefined {
  const actual = typeof value;
  if (actual !== 'string' && actual !== 'number' && actual !== 'boolean') {
    return 'must be a string, number or boolean';
  }
  if (spec.type !== undefined && actual !== spec.type) return `must be a ${spec.type}`;
  if (actual === 'number' && !Number.isFinite(value)) return 'must be a finite number';
  if (spec.maxLength !== undefined && String(value).length > spec.maxLength) {
    return `is longer than ${spec.maxLength} characters`;
  }
  return undefined;
}

function compile(name: string, body: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === '\\' && (body[i + 1] === '{' || body[i + 1] === '\\')) {
      literal += body[i + 1];
      i += 2;
    } else if (c === '{' && body[i + 1] === '{') {
      const m = PLACEHOLDER.exec(body.slice(i, i + 200));
      if (!m?.[1]) {
        throw new TemplateDefinitionError(
          name,
          `"{{" at position ${i} does not start a {{variable}} placeholder (write \\{{ for literal braces)`,
        );
      }
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ variable: m[1] });
      i += m[0].length;
    } else {
      literal += c;
      i++;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}
