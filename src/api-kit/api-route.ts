import type { z } from 'zod';
import type { ApiScope } from '../config';

/** Every route under this prefix must declare an `api` route config (scope and description). */
export const API_PREFIX = '/api';

/** One response of a route, for the OpenAPI document. */
export interface ApiResponseSpec {
  description: string;
  /** JSON body schema; none for an empty body. */
  body?: z.ZodType;
  /** Content type when not JSON (e.g. `text/html`, `audio/mpeg`). */
  contentType?: string;
}

/**
 * What an `/api` route declares in its fastify route config (`config: { api: … }`):
 * who may call it and what it takes and answers. The auth hook enforces `scope`;
 * the OpenAPI document (GET /api/openapi.json) is generated from the schemas, which
 * are the same zod schemas the handler validates with (see `parseInput`).
 */
export interface ApiRouteSpec {
  /** Scope a token needs; `public` only for the documentation routes (no data). */
  scope: ApiScope | 'public';
  summary: string;
  description?: string;
  /** OpenAPI tag (groups routes on the docs page). */
  tag: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers worth documenting (e.g. Idempotency-Key). */
  headers?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ApiResponseSpec>;
  /** Left out of the OpenAPI document (the docs page's own asset routes). */
  hidden?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route under /api (src/api-kit/api-auth.ts refuses to register one without it). */
    api?: ApiRouteSpec;
  }
  interface FastifyRequest {
    /** The API token's name once the auth hook accepted it (for audit and metrics). */
    apiCaller?: { name: string; scopes: readonly ApiScope[] };
  }
}

/** True for a URL (path) under the API prefix. */
export function isApiPath(url: string): boolean {
  return url === API_PREFIX || url.startsWith(`${API_PREFIX}/`) || url.startsWith(`${API_PREFIX}?`);
}
