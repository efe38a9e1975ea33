import { engineProblems, judgeAudit } from '../../../scripts/dependency-gates';

/** What npm audit --json printed on this project's registry (HTTP 405 on the bulk advisory endpoint). */
const REFUSED = {
  message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  method: 'POST',
  statusCode: 405,
  body: '',
  error: { summary: '', detail: '' },
};

const report = (vulnerabilities: Record<string, unknown>) => ({ auditReportVersion: 2, vulnerabilities });
const advisory = (name: string, severity: string, ghsa: string) => ({
  source: 1100000,
  name,
  title: `${name} does something bad`,
  url: `https://github.com/advisories/${ghsa}`,
  severity,
});

describe('judgeAudit', () => {
  it('says plainly that the audit could not run when the registry refuses the endpoint, never that it passed', () => {
    const verdict = judgeAudit(REFUSED, []);
    expect(verdict.kind).toBe('not-run');
    expect(verdict.kind === 'not-run' && verdict.line).toMatch(
      /^WARNING: npm audit could not run .*405 Method Not Allowed.*NOT checked/,
    );
    expect(judgeAudit(null, []).kind).toBe('not-run');
  });

  it('blocks a high or critical advisory that the allow-list does not name, and lets low/moderate ones through', () => {
    const verdict = judgeAudit(
      report({
        cookie: { severity: 'high', via: [advisory('cookie', 'high', 'GHSA-pxg6-pf52-xh8x')] },
        ws: { severity: 'critical', via: [advisory('ws', 'critical', 'GHSA-3h5v-q93c-6h6q')] },
        debug: { severity: 'moderate', via: [advisory('debug', 'moderate', 'GHSA-9vvw-cc9w-f27h')] },
        express: { severity: 'high', via: ['cookie'] },
      }),
      [],
    );
    expect(verdict.kind === 'checked' && verdict.blocking).toEqual([
      'GHSA-3h5v-q93c-6h6q (critical) in ws: ws does something bad',
      'GHSA-pxg6-pf52-xh8x (high) in cookie: cookie does something bad',
    ]);
  });

  it('accepts an advisory the allow-list names for that package, with its reason', () => {
    const verdict = judgeAudit(
      report({ cookie: { severity: 'high', via: [advisory('cookie', 'high', 'GHSA-pxg6-pf52-xh8x')] } }),
      [{ id: 'GHSA-pxg6-pf52-xh8x', package: 'cookie', reason: 'we never parse cookie names from users' }],
    );
    expect(verdict).toMatchObject({ kind: 'checked', blocking: [], problems: [] });
    expect(verdict.kind === 'checked' && verdict.allowed[0]).toContain('we never parse cookie names from users');
    // The same id listed for another package does not cover it.
    const other = judgeAudit(
      report({ cookie: { severity: 'high', via: [advisory('cookie', 'high', 'GHSA-pxg6-pf52-xh8x')] } }),
      [{ id: 'GHSA-pxg6-pf52-xh8x', package: 'ws', reason: 'a reason for another package' }],
    );
    expect(other.kind === 'checked' && other.blocking).toHaveLength(1);
  });

  it('refuses an allow-list entry without a reason', () => {
    const verdict = judgeAudit(report({}), [{ id: 'GHSA-pxg6-pf52-xh8x', package: 'cookie', reason: '' }]);
    expect(verdict.kind === 'checked' && verdict.problems[0]).toMatch(/needs an id, a package and a reason/);
  });
});

describe('engineProblems', () => {
  // A tiny ">=X" / "^X" comparison is enough for the table below.
  const satisfies = (v: string, range: string) =>
    range.split('||').some((r) => {
      const [maj, min] = v.split('.').map(Number) as [number, number];
      const m = /(>=|\^)(\d+)\.(\d+)/.exec(r.trim())!;
      const [rmaj, rmin] = [Number(m[2]), Number(m[3])];
      if (m[1] === '^') return maj === rmaj && min >= rmin;
      return maj > rmaj || (maj === rmaj && min >= rmin);
    });
  const lock = {
    packages: {
      '': { engines: { node: '>=20.6' } },
      'node_modules/cookie': { version: '2.0.2', engines: { node: '>=22.0' } },
      'node_modules/eslint': { version: '9.0.0', dev: true, engines: { node: '^18.18 || ^20.9 || >=21.1' } },
      'node_modules/pino': { version: '10.0.0', engines: { node: '>=20.0' } },
      'node_modules/yaml': { version: '2.0.0', engines: { node: '>=20.9' } },
      'node_modules/old': { version: '1.0.0', engines: ['node >= 0.8'] },
    },
  };

  it('names what npm would warn EBADENGINE about, and runtime packages narrower than our own engines', () => {
    expect(engineProblems(lock, satisfies, '20.20.2', '20.6.0')).toEqual([
      'cookie@2.0.2 declares node >=22.0: npm warns EBADENGINE on Node 20.20.2',
      'yaml@2.0.0 (a runtime dependency) declares node >=20.9, narrower than our engines (>= 20.6.0)',
    ]);
  });

  it('passes a lock file whose packages all accept the running and the oldest supported Node', () => {
    const { packages } = lock;
    const clean = { packages: { '': packages[''], 'node_modules/pino': packages['node_modules/pino'] } };
    expect(engineProblems(clean, satisfies, '20.20.2', '20.6.0')).toEqual([]);
  });
});
