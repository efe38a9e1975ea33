import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildOpenApi, type ApiRouteRecord, type ApiRouteSpec } from '../api-kit';

/** swagger-ui-dist's files the docs page loads, and their content types (served from node_modules, no CDN). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ingress-egress API</title>
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// Relative URLs: the page works behind a path prefix too.
const INIT = `window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export const OPENAPI_SPEC: ApiRouteSpec = {
  scope: 'public',
  tag: 'docs',
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: { description: 'The document', body: z.object({ openapi: z.string() }).loose() } },
};

export const DOCS_SPEC: ApiRouteSpec = {
  scope: 'public',
  tag: 'docs',
  summary: 'The API docs page (Swagger UI, served locally)',
  responses: { 200: { description: 'The page', contentType: 'text/html' } },
};

const ASSET_SPEC: ApiRouteSpec = {
  scope: 'public',
  tag: 'docs',
  summary: 'The docs page’s assets',
  hidden: true,
  responses: { 200: { description: 'A file' }, 404: { description: 'No such file' } },
};

function swaggerUiDir(): string {
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

/**
 * GET /api/openapi.json (generated from the routes' zod schemas once every
 * route is registered), GET /api/docs (Swagger UI) and its assets. These
 * carry no data and need no token.
 */
export function registerDocsRoutes(
  app: FastifyInstance,
  routes: readonly ApiRouteRecord[],
  info: { version: string },
): void {
  let doc: Record<string, unknown> | undefined;
  const files = new Map<string, Buffer>();
  app.get('/api/openapi.json', { config: { api: OPENAPI_SPEC } }, async () => {
    doc ??= buildOpenApi(routes, {
      title: 'ingress-egress API',
      version: info.version,
      description:
        'Send, cancel and look up SMS through Kafka, and manage consent. Every route but the docs needs `Authorization: Bearer <token>` from API_TOKENS.',
    });
    return doc;
  });
  app.get('/api/docs', { config: { api: DOCS_SPEC } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE),
  );
  app.get<{ Params: { file: string } }>('/api/docs/:file', { config: { api: ASSET_SPEC } }, async (req, reply) => {
    const { file } = req.params;
    if (file === 'init.js') return reply.type('application/javascript; charset=utf-8').send(INIT);
    const type = ASSETS[file];
    if (!type) return reply.code(404).send({ error: 'not_found', message: 'no such file' });
    let body = files.get(file);
    if (!body) {
      body = readFileSync(path.join(swaggerUiDir(), file));
      files.set(file, body);
    }
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
  });
}
