import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError, type RegistryStore, type SubjectVersion } from './registry-store';

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MAX_BODY_BYTES = 8 * 1024 * 1024;

type Handler = (store: RegistryStore, params: string[], body: unknown, query: URLSearchParams) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/** Subject-version answers omit schemaType for Avro and empty references, as Confluent does. */
function versionBody(v: SubjectVersion): Record<string, unknown> {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    schema: v.schema,
    ...(v.schemaType === 'AVRO' ? {} : { schemaType: v.schemaType }),
    ...(v.references.length > 0 ? { references: v.references } : {}),
  };
}

function schemaBody(body: unknown): { schema: unknown; schemaType?: unknown; references?: unknown } {
  if (body === null || typeof body !== 'object') throw new RegistryError(42201, 'request body must be a JSON object');
  return body as { schema: unknown; schemaType?: unknown; references?: unknown };
}

/**
 * The endpoints @kafkajs/confluent-schema-registry calls (FACTS.md), plus the
 * two listings that make a registry inspectable. Anything else answers 404/405
 * in Confluent's error shape.
 */
const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/config\/([^/]+)$/,
    handler: (store, [subject], _body, query) => ({
      compatibilityLevel: store.compatibility(subject!, query.get('defaultToGlobal') === 'true'),
    }),
  },
  {
    method: 'PUT',
    pattern: /^\/config\/([^/]+)$/,
    handler: (store, [subject], body) => ({
      compatibility: store.setCompatibility(subject!, (body as { compatibility?: unknown } | null)?.compatibility),
    }),
  },
  { method: 'GET', pattern: /^\/subjects$/, handler: (store) => store.subjectNames() },
  {
    method: 'POST',
    pattern: /^\/subjects\/([^/]+)\/versions$/,
    handler: (store, [subject], body) => ({ id: store.register(subject!, schemaBody(body)) }),
  },
  {
    method: 'GET',
    pattern: /^\/subjects\/([^/]+)\/versions$/,
    handler: (store, [subject]) => store.versions(subject!),
  },
  {
    method: 'POST',
    pattern: /^\/subjects\/([^/]+)$/,
    handler: (store, [subject], body) => versionBody(store.lookup(subject!, schemaBody(body))),
  },
  {
    method: 'GET',
    pattern: /^\/subjects\/([^/]+)\/versions\/([^/]+)$/,
    handler: (store, [subject, version]) => versionBody(store.version(subject!, version!)),
  },
  {
    method: 'GET',
    pattern: /^\/schemas\/ids\/([^/]+)$/,
    handler: (store, [id]) => {
      const n = /^\d{1,10}$/.test(id!) ? Number(id) : -1;
      const s = store.schema(n);
      return {
        schema: s.schema,
        ...(s.schemaType === 'AVRO' ? {} : { schemaType: s.schemaType }),
        ...(s.references.length > 0 ? { references: s.references } : {}),
      };
    },
  },
];

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': REGISTRY_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RegistryError(41301, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A node:http request listener serving the registry from `store`. */
export function createRegistryHandler(store: RegistryStore): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(store, req, res);
  };
}

async function handle(store: RegistryStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://registry');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const candidates = ROUTES.filter((r) => r.pattern.test(path));
    if (candidates.length === 0) return send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
    const route = candidates.find((r) => r.method === req.method);
    if (!route) return send(res, 405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
    const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    const raw = req.method === 'GET' ? '' : await readBody(req);
    let body: unknown = null;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { error_code: 400, message: 'Unexpected character: request body is not JSON' });
      }
    }
    send(res, 200, route.handler(store, params, body, url.searchParams));
  } catch (err) {
    if (err instanceof RegistryError)
      return send(res, err.httpStatus, { error_code: err.errorCode, message: err.message });
    send(res, 500, { error_code: 50001, message: 'Error in the backend data store' });
  }
}
