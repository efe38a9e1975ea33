import type { z } from 'zod';
import { ApiRequestError } from './api-errors';

/** Where an input came from; prefixes the field in a 400's message. */
export type InputPart = 'body' | 'query' | 'params' | 'headers';

/**
 * Validates one part of a request with the route's zod schema (the one its
 * OpenAPI entry is generated from). A failure is a 400 naming the first bad
 * field (`to`, `recipients.3`, …) with zod's message, never the value.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: InputPart): z.output<S> {
  const r = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // An unknown key is named by the issue's `keys`, not its path.
  const path = issue ? [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])] : [];
  const field = path.length > 0 ? path.map(String).join('.') : undefined;
  const what = field ?? part;
  const message = (issue?.message ?? 'is invalid').replace(/,?\s*received.*$/i, '');
  throw new ApiRequestError(400, 'invalid_request', `${part}${field ? `.${field}` : ''}: ${message}`, what);
}
