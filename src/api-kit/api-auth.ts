import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiScope, ApiTokenEntry } from '../config';
import type { Logger } from '../observability';
import { systemClock, type Clock } from '../common/clock';
import { TokenBucket } from '../resilience/token-bucket';
import { ApiRequestError, sendApiError } from './api-errors';
import { isApiPath, type ApiRouteSpec } from './api-route';
import { ApiTokenVerifier, bearerToken, hasScope, type ApiCaller } from './token-verifier';

export interface ApiAuthOptions {
  /** API_TOKENS, parsed (digests only). */
  tokens: readonly ApiTokenEntry[];
  /** Each token's bucket: requests per second and burst. */
  rateLimit: { perSec: number; burst: number };
  /** Receives one `api call` line per /api request: the token's name, never the token. */
  auditLogger: Logger;
  clock?: Clock;
}

/** The routes the hook has seen under /api, with their declared specs (for the OpenAPI document). */
export interface ApiRouteRecord {
  method: string;
  url: string;
  spec: ApiRouteSpec;
}

/**
 * The token layer of every `/api` route. Call once on the root instance,
 * before any route is added. Then:
 *
 * - a route under `/api` must declare `config: { api: { scope, … } }`
 *   (ApiRouteSpec); registering one without it throws, so no route is open
 *   by mistake;
 * - each request to it needs `Authorization: Bearer <token>` naming a token
 *   of API_TOKENS with the scope (`admin` implies all): 401 without a valid
 *   token, 403 without the scope, 429 with Retry-After over the token's rate;
 * - every call is logged once (`api call`) with the token's name, the route
 *   pattern (not the URL: it may hold a phone number), the status and the time.
 *
 * Returns the list of /api routes registered (filled as routes are added).
 */
export function installApiAuth(app: FastifyInstance, options: ApiAuthOptions): ApiRouteRecord[] {
  const verifier = new ApiTokenVerifier(options.tokens);
  const clock = options.clock ?? systemClock;
  const buckets = new Map<string, TokenBucket>(
    options.tokens.map((t) => [
      t.name,
      new TokenBucket({ ratePerSec: options.rateLimit.perSec, burst: options.rateLimit.burst, clock }),
    ]),
  );
  const routes: ApiRouteRecord[] = [];
  const log = options.auditLogger;

  app.addHook('onRoute', (route) => {
    if (!isApiPath(route.url)) return;
    const spec = route.config?.api;
    if (!spec) throw new Error(`route ${route.url} is under /api but declares no config.api (scope)`);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) if (m !== 'HEAD') routes.push({ method: m, url: route.url, spec });
  });

  const refuse = (reply: FastifyReply, err: ApiRequestError): FastifyReply => sendApiError(reply, err);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!isApiPath(req.url)) return;
    const spec = req.routeOptions.config.api;
    if (spec?.scope === 'public') return;
    const token = bearerToken(req.headers.authorization);
    const caller: ApiCaller | undefined = token === undefined ? undefined : verifier.verify(token);
    if (!caller) {
      reply.header('WWW-Authenticate', 'Bearer realm="api"');
      return refuse(
        reply,
        new ApiRequestError(401, 'unauthorized', token === undefined ? 'a bearer token is required' : 'unknown token'),
      );
    }
    req.apiCaller = caller;
    // An unknown /api path: a valid token of any scope learns it is a 404.
    const scope: ApiScope | undefined = spec?.scope;
    if (scope !== undefined && !hasScope(caller, scope)) {
      return refuse(reply, new ApiRequestError(403, 'forbidden', `this route needs the ${scope} scope`));
    }
    const bucket = buckets.get(caller.name);
    if (bucket && !bucket.tryTake()) {
      const wait = (1 - bucket.available()) / bucket.ratePerSec;
      reply.header('Retry-After', String(Math.max(1, Math.ceil(wait))));
      return refuse(reply, new ApiRequestError(429, 'rate_limited', 'too many requests for this token'));
    }
    return undefined;
  });

  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!isApiPath(req.url)) return;
    log.info(
      {
        audit: 'api',
        caller: req.apiCaller?.name ?? null,
        method: req.method,
        route: req.routeOptions.url ?? '(no route)',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        reqId: req.id,
      },
      'api call',
    );
  });

  return routes;
}

/**
 * METRICS_TOKEN: when set, `GET /metrics` needs it as a bearer token (401
 * otherwise); compared by digest in constant time like the API tokens.
 */
export function installMetricsGuard(app: FastifyInstance, metricsTokenSha256: string | undefined): void {
  if (metricsTokenSha256 === undefined) return;
  const verifier = new ApiTokenVerifier([{ name: 'metrics', scopes: ['read'], sha256: metricsTokenSha256 }]);
  app.addHook('onRequest', async (req, reply) => {
    if (req.url !== '/metrics' && !req.url.startsWith('/metrics?')) return undefined;
    const token = bearerToken(req.headers.authorization);
    if (token !== undefined && verifier.verify(token)) return undefined;
    reply.header('WWW-Authenticate', 'Bearer realm="metrics"');
    return reply.code(401).send({ error: 'unauthorized', message: 'a bearer token is required' });
  });
}
