/**
 * The dependency half of the quality gates (validate_deliverable.sh, "dependency gates"):
 *
 * - `npm audit --omit=dev`: fails on a high or critical advisory against a runtime dependency unless
 *   audit-allowlist.json lists it with the reason it does not apply. When the registry refuses the
 *   audit endpoint (this project's registry answers 405), it says so in one line and passes WITHOUT
 *   claiming the dependencies were checked: a hard failure there would fail every run of the test command.
 * - engines: every package in package-lock.json accepts the running Node (what npm's EBADENGINE warns
 *   about), and every runtime package also accepts the oldest Node package.json allows.
 *
 *   node dist/scripts/dependency-gates.js        # both gates; exit 1 when one fails
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const BLOCKING_SEVERITIES: ReadonlySet<string> = new Set(['high', 'critical']);

/** One allowed advisory: its GHSA id (or npm advisory number), the package, and why it does not apply. */
export interface AllowedAdvisory {
  id: string;
  package: string;
  reason: string;
}

export type AuditVerdict =
  { kind: 'not-run'; line: string } | { kind: 'checked'; blocking: string[]; allowed: string[]; problems: string[] };

interface AuditVia {
  source?: number;
  name?: string;
  title?: string;
  url?: string;
  severity?: string;
}

/** The GHSA id of an advisory URL (https://github.com/advisories/GHSA-…), else its npm number. */
function advisoryId(via: AuditVia): string {
  const ghsa = /GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}/i.exec(via.url ?? '');
  return ghsa ? ghsa[0] : String(via.source ?? via.url ?? via.title ?? 'unknown');
}

/**
 * Judges the JSON `npm audit --json` printed. A registry error (npm prints `{ statusCode, message }` or
 * `{ error: { summary } }` instead of a report) is `not-run`, with the one line to print.
 */
export function judgeAudit(report: unknown, allowList: readonly AllowedAdvisory[]): AuditVerdict {
  const problems: string[] = [];
  for (const a of allowList) {
    if (!a.id || !a.package || !a.reason || a.reason.trim().length < 10) {
      problems.push(`audit-allowlist.json: entry ${JSON.stringify(a)} needs an id, a package and a reason`);
    }
  }
  const r = (report ?? {}) as {
    vulnerabilities?: Record<string, { severity?: string; via?: (AuditVia | string)[] }>;
    statusCode?: number;
    message?: string;
    error?: { summary?: string; code?: string };
  };
  if (!r.vulnerabilities) {
    const why =
      r.message ?? (r.error?.summary || r.error?.code) ?? (r.statusCode ? `HTTP ${r.statusCode}` : 'no report printed');
    return {
      kind: 'not-run',
      line: `WARNING: npm audit could not run (the registry refused the audit endpoint: ${why.trim()}); runtime dependencies were NOT checked for advisories`,
    };
  }
  const allowed = new Map(allowList.map((a) => [a.id.toUpperCase(), a]));
  const blocking = new Set<string>();
  const accepted = new Set<string>();
  for (const [pkg, vuln] of Object.entries(r.vulnerabilities)) {
    for (const via of vuln.via ?? []) {
      // A string names another vulnerable package (reported under its own entry).
      if (typeof via === 'string') continue;
      const severity = via.severity ?? vuln.severity ?? '';
      if (!BLOCKING_SEVERITIES.has(severity)) continue;
      const id = advisoryId(via);
      const entry = allowed.get(id.toUpperCase());
      const name = via.name ?? pkg;
      const label = `${id} (${severity}) in ${name}: ${via.title ?? 'no title'}`;
      if (entry && entry.package === name) accepted.add(`${label} — allowed: ${entry.reason}`);
      else blocking.add(label);
    }
  }
  return { kind: 'checked', blocking: [...blocking].sort(), allowed: [...accepted].sort(), problems };
}

interface LockPackage {
  version?: string;
  dev?: boolean;
  engines?: { node?: string } | string[];
}

/**
 * The packages of a package-lock.json (v2/v3) whose `engines.node` refuses `running` (npm's EBADENGINE), or,
 * for runtime packages, refuses `oldestSupported` (the floor of the root's own `engines.node`).
 */
export function engineProblems(
  lock: { packages?: Record<string, LockPackage> },
  satisfies: (version: string, range: string) => boolean,
  running: string,
  oldestSupported: string,
): string[] {
  const problems: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages ?? {})) {
    if (where === '') continue;
    const range = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined;
    if (!range) continue;
    const name = `${where.replace(/^.*node_modules\//, '')}@${pkg.version ?? '?'}`;
    if (!satisfies(running, range)) {
      problems.push(`${name} declares node ${range}: npm warns EBADENGINE on Node ${running}`);
    } else if (!pkg.dev && !satisfies(oldestSupported, range)) {
      problems.push(
        `${name} (a runtime dependency) declares node ${range}, narrower than our engines (>= ${oldestSupported})`,
      );
    }
  }
  return problems;
}

interface Semver {
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
  minVersion(range: string): { version: string } | null;
}

function main(): number {
  const root = path.resolve(__dirname, '..', '..');
  // semver is npm's own range logic (present through jest and typescript-eslint); the same answers npm gives.
  const semver = createRequire(path.join(root, 'package.json'))('semver') as Semver;
  let failed = false;

  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, LockPackage & { engines?: { node?: string } }>;
  };
  const rootRange = (lock.packages?.['']?.engines as { node?: string } | undefined)?.node ?? '*';
  const oldest = semver.minVersion(rootRange)?.version ?? '0.0.0';
  const engines = engineProblems(lock, (v, r) => semver.satisfies(v, r), process.versions.node, oldest);
  if (engines.length > 0) {
    failed = true;
    for (const p of engines) console.log(`engines: ${p}`);
  } else {
    console.log(
      `engines: every locked package accepts Node ${process.versions.node}; runtime ones accept >= ${oldest}`,
    );
  }

  const allowList = (
    JSON.parse(readFileSync(path.join(root, 'audit-allowlist.json'), 'utf8')) as { advisories: AllowedAdvisory[] }
  ).advisories;
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  let report: unknown;
  try {
    report = JSON.parse(run.stdout || 'null');
  } catch {
    report = { message: (run.stderr || run.error?.message || 'unreadable output').split('\n')[0] };
  }
  const verdict = judgeAudit(report, allowList);
  if (verdict.kind === 'not-run') {
    console.log(verdict.line);
  } else {
    for (const p of verdict.problems) console.log(p);
    for (const a of verdict.allowed) console.log(`audit: ${a}`);
    for (const b of verdict.blocking)
      console.log(`audit: BLOCKING ${b} (fix it, or list it in audit-allowlist.json with why it does not apply)`);
    if (verdict.blocking.length > 0 || verdict.problems.length > 0) failed = true;
    else
      console.log(
        `audit: no high or critical advisory against a runtime dependency (${verdict.allowed.length} allowed)`,
      );
  }
  return failed ? 1 : 0;
}

if (require.main === module) process.exit(main());
