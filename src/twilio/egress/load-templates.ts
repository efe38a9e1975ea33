import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IngressEgressError } from '../../errors';
import { TemplateRegistry, type TemplateDefinition } from '../../sms/templates';
import type { SmsValidator } from '../../sms/validate';

const definitions = z.array(
  z.object({
    name: z.string().min(1),
    body: z.string(),
    variables: z.union([
      z.array(z.string()),
      z.record(
        z.string(),
        z.object({ type: z.enum(['string', 'number', 'boolean']).optional(), maxLength: z.number().int().optional() }),
      ),
    ]),
    description: z.string().optional(),
  }),
);

/**
 * The templates egress requests may name, from EGRESS_TEMPLATES_FILE (a JSON
 * array of `{name, body, variables}`). A missing or bad file stops start-up
 * with IE_CONFIG_INVALID naming the variable; without a file the registry is
 * empty and every template request is rejected as unknown.
 */
export function loadTemplates(path: string | undefined, validator: SmsValidator): TemplateRegistry {
  if (path === undefined) return new TemplateRegistry({ validator });
  let parsed: TemplateDefinition[];
  try {
    parsed = definitions.parse(JSON.parse(readFileSync(path, 'utf8'))) as TemplateDefinition[];
  } catch (err) {
    throw new IngressEgressError(
      'IE_CONFIG_INVALID',
      'EGRESS_TEMPLATES_FILE could not be read as a JSON array of {name, body, variables}',
      { cause: err, details: { variables: ['EGRESS_TEMPLATES_FILE'] } },
    );
  }
  return new TemplateRegistry({ validator }, parsed);
}
