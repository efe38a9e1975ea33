/**
 * Checks architecture.yaml against the code: the HTTP routes the server
 * registers, the Kafka topics (default names and their variables), the event
 * types and the environment variables must be exactly the ones listed, and the
 * imports of src/ must respect `layers:` (no import up a layer, no cycle between
 * folders; see scripts/import-layers.ts), and `npm pack` of the service must
 * hold only the service (scripts/pack-contents.ts), and every product file has its unit test or a covering
 * test named in docs/contributing.md (scripts/test-map.ts). Exits 1 and names every drift.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ENV_VARS, loadConfig } from '../src/config';
import { EVENT_TYPES, type EventType } from '../src/envelope';
import { LANE_EVENT_TYPES, LANE_TOPIC, TOPIC_OF_TYPE } from '../src/kafka/topics';
import { silentLogger } from '../src/observability';
import { checkLayers, readImports } from './import-layers';
import { checkServicePack } from './pack-contents';
import { checkCoverageFloors, type Floors } from './coverage-floors';
import { checkTestMap } from './test-map';
import { buildServer, type IngressEgressServer, type ManagedPublisher } from '../src/server';

interface Architecture {
  parts: Record<string, string>;
  /** Top first; each entry one folder (or file) or a list of folders on the same layer. */
  layers: (string | string[])[];
  http: { routes: string[] };
  kafka: { topics: { name: string; env: string; events: string[] }[] };
  environment: string[];
}

const root = path.resolve(__dirname, '..', ...(__dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));

const noPublisher: ManagedPublisher = {
  start: async () => undefined,
  stop: async () => undefined,
  isReady: () => false,
  publish: async () => Promise.reject(new Error('not for publishing')),
  publishRaw: async () => Promise.reject(new Error('not for publishing')),
};

function diff(label: string, declared: string[], actual: string[], problems: string[]): void {
  const d = new Set(declared);
  const a = new Set(actual);
  for (const x of a) if (!d.has(x)) problems.push(`${label}: ${x} is in the code but not in architecture.yaml`);
  for (const x of d) if (!a.has(x)) problems.push(`${label}: ${x} is in architecture.yaml but not in the code`);
}

/** Every difference between architecture.yaml (its text) and the code, as readable lines. */
/** `pack: true` also checks what npm pack of the service would publish (needs a build; the CLI run does it). */
export async function checkArchitecture(
  yamlText: string,
  options: { pack?: boolean } = {},
): Promise<{ problems: string[]; summary: string }> {
  const arch = parse(yamlText) as Architecture;
  const problems: string[] = [];

  // Build the service as production would, with every connector enabled.
  const config = loadConfig({
    KAFKA_BROKERS: '127.0.0.1:9092',
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
    TWILIO_AUTH_TOKEN: 'architecture-check',
    TWILIO_WEBHOOK_BASE_URL: 'https://example.invalid',
    TWILIO_CONVERSATIONS_ENABLED: 'true',
    TWILIO_API_KEY_SID: 'SK' + '0'.repeat(32),
    TWILIO_API_KEY_SECRET: 'architecture-check',
    TWILIO_CONVERSATIONS_SERVICE_SID: 'IS' + '0'.repeat(32),
    TWILIO_PHONE_NUMBER: '+15005550006',
    LOG_LEVEL: 'silent',
  });
  const server = buildServer(config, { publisher: noPublisher, logger: silentLogger });
  await server.prepare();
  diff('route', arch.http.routes, server.routes(), problems);
  problems.push(...(await checkOpenApi(server)));
  await server.app.close();

  const topics = config.kafka.topics;
  const envOfRole: Record<keyof typeof topics, string> = {
    inbound: 'KAFKA_TOPIC_INBOUND',
    status: 'KAFKA_TOPIC_STATUS',
    consent: 'KAFKA_TOPIC_CONSENT',
    egress: 'KAFKA_TOPIC_EGRESS',
    egressUrgent: 'KAFKA_TOPIC_EGRESS_URGENT',
    egressBulk: 'KAFKA_TOPIC_EGRESS_BULK',
    outcomes: 'KAFKA_TOPIC_OUTCOMES',
    egressDlq: 'KAFKA_TOPIC_EGRESS_DLQ',
    voiceCalls: 'KAFKA_TOPIC_VOICE_CALLS',
    voiceRecordings: 'KAFKA_TOPIC_VOICE_RECORDINGS',
  };
  const actualTopics = Object.entries(topics).map(([role, name]) => {
    const laneRoles = Object.values(LANE_TOPIC) as string[];
    const events = Object.entries(TOPIC_OF_TYPE)
      .filter(([t, r]) => r === role || (laneRoles.includes(role) && LANE_EVENT_TYPES.includes(t as EventType)))
      .map(([t]) => t)
      .sort();
    return `${name} (${envOfRole[role as keyof typeof topics]}) [${events.join(', ')}]`;
  });
  const declaredTopics = (arch.kafka.topics ?? []).map(
    (t) => `${t.name} (${t.env}) [${[...(t.events ?? [])].sort().join(', ')}]`,
  );
  diff('topic', declaredTopics, actualTopics, problems);
  diff(
    'event type',
    (arch.kafka.topics ?? []).flatMap((t) => t.events ?? []),
    [...EVENT_TYPES],
    problems,
  );
  diff('environment variable', arch.environment ?? [], [...ENV_VARS], problems);
  for (const folder of Object.keys(arch.parts ?? {})) {
    if (!existsSync(path.join(root, folder)))
      problems.push(`part: ${folder} is in architecture.yaml but does not exist`);
  }

  const edges = readImports(root, ['src', 'packages/sandbox/src', 'packages/twilio-simulator/src']);
  problems.push(...checkLayers(edges, arch.layers ?? [], Object.keys(arch.parts ?? {})));
  // What npm pack of the service ships: the service only (scripts/pack-contents.ts).
  if (options.pack) problems.push(...checkServicePack(root));
  // Tests follow the code (docs/contributing.md's table of files covered by a higher-level test).
  problems.push(...checkTestMap(root, readFileSync(path.join(root, 'docs/contributing.md'), 'utf8')));
  // Every folder of src/ has its coverage floors in jest.config.js (scripts/coverage-floors.ts).
  const jestConfig = path.join(root, 'jest.config.js');
  if (existsSync(jestConfig)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const floors = (require(jestConfig) as { coverageThreshold?: Floors }).coverageThreshold;
    problems.push(...checkCoverageFloors(root, floors));
  }

  const summary = `${server.routes().length} routes, ${actualTopics.length} topics, ${ENV_VARS.length} variables, ${edges.length} imports in ${(arch.layers ?? []).length} layers`;
  return { problems, summary };
}

/**
 * The OpenAPI document served at /api/openapi.json against the routes: every
 * /api route (but the docs page's hidden asset route) has an operation, and
 * every operation a route.
 */
export async function checkOpenApi(server: IngressEgressServer): Promise<string[]> {
  const res = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
  if (res.statusCode !== 200) return [`openapi: GET /api/openapi.json answered ${res.statusCode}`];
  const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
  const problems: string[] = [];
  if (!doc.openapi.startsWith('3.1')) problems.push(`openapi: version ${doc.openapi} is not 3.1`);
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`),
  );
  const routes = server.apiRoutes.filter((r) => !r.spec.hidden).map((r) => `${r.method} ${r.url}`);
  const d = new Set(documented);
  const r = new Set(routes);
  for (const x of routes) if (!d.has(x)) problems.push(`openapi: route ${x} has no operation in /api/openapi.json`);
  for (const x of documented) if (!r.has(x)) problems.push(`openapi: operation ${x} has no route`);
  return problems;
}

async function main(): Promise<number> {
  const { problems, summary } = await checkArchitecture(readFileSync(path.join(root, 'architecture.yaml'), 'utf8'), {
    pack: true,
  });
  if (problems.length > 0) {
    console.error(`architecture.yaml drifted from the code (${problems.length}):`);
    for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  console.log(`architecture.yaml matches the code: ${summary}`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error('architecture check failed:', err);
      process.exit(1);
    },
  );
}
