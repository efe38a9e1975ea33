import { z } from 'zod';
import type { ApiRouteRecord } from './api-auth';

type Json = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** `/api/sms/:requestId/cancel` → `/api/sms/{requestId}/cancel`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Builds the OpenAPI 3.1 document of the /api routes from the zod schemas
 * they declare (zod 4's JSON Schema output, draft 2020-12, which OpenAPI 3.1
 * uses). Schemas named with `.meta({ id })` become `components.schemas`.
 * Hidden routes are left out.
 */
export function buildOpenApi(routes: readonly ApiRouteRecord[], info: OpenApiInfo): Json {
  const components: Record<string, Json> = {};
  const schema = (s: z.ZodType, io: 'input' | 'output'): Json => {
    const out = z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    const text = JSON.stringify(out).replaceAll('"#/$defs/', '"#/components/schemas/');
    const json = JSON.parse(text) as Json;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    for (const [id, def] of Object.entries(defs)) components[id] = def;
    delete json.$defs;
    delete json.$schema;
    return json;
  };
  const parameters = (obj: z.ZodObject | undefined, where: 'path' | 'query' | 'header'): Json[] =>
    obj
      ? Object.entries(obj.shape).map(([name, field]) => {
          const f = field as z.ZodType;
          const s = schema(f, 'input');
          const description = typeof s.description === 'string' ? s.description : undefined;
          delete s.description;
          return {
            name,
            in: where,
            required: where === 'path' || !f.safeParse(undefined).success,
            ...(description ? { description } : {}),
            schema: s,
          };
        })
      : [];
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    if (r.spec.hidden) continue;
    const spec = r.spec;
    const op: Json = {
      operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      security: spec.scope === 'public' ? [] : [{ bearer: [] }],
      ...(spec.scope !== 'public' ? { 'x-scope': spec.scope } : {}),
    };
    const params = [
      ...parameters(spec.params, 'path'),
      ...parameters(spec.query, 'query'),
      ...parameters(spec.headers, 'header'),
    ];
    if (params.length > 0) op.parameters = params;
    if (spec.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: schema(spec.body, 'input') } } };
    }
    const responses: Record<string, Json> = {};
    for (const [status, res] of Object.entries(spec.responses)) {
      responses[status] = {
        description: res.description,
        ...(res.body
          ? { content: { [res.contentType ?? 'application/json']: { schema: schema(res.body, 'output') } } }
          : res.contentType
            ? { content: { [res.contentType]: {} } }
            : {}),
      };
    }
    op.responses = responses;
    const path = openApiPath(r.url);
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token of API_TOKENS (name:scopes:token)' },
      },
      schemas: components,
    },
  };
}
