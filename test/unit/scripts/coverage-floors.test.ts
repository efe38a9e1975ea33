import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  checkCoverageFloors,
  coverageKeys,
  type CoverageSummary,
  type Floors,
  measured,
  raised,
  replaceFloors,
} from '../../../scripts/coverage-floors';

function tree(files: string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'coverage-floors-'));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), 'export {};\n');
  }
  return root;
}

const all = (n: number) => ({ lines: n, branches: n, functions: n, statements: n });
const counter = (covered: number, total: number) => ({ covered, total });
const file = (covered: number, total: number) => ({
  lines: counter(covered, total),
  branches: counter(covered, total),
  functions: counter(covered, total),
  statements: counter(covered, total),
});

describe('per-folder coverage floors', () => {
  const root = tree([
    'src/main.ts',
    'src/a/x.ts',
    'src/ab/y.ts',
    'src/a/b/z.ts',
    'src/only-folders/c/w.ts',
    'src/sms/s.ts',
    'src/compliance/c.ts',
    'src/resilience/r.ts',
    'src/twilio/webhooks/h.ts',
  ]);
  const complete: Floors = {
    './src/main.ts': all(10),
    './src/a/': all(50),
    './src/ab/': all(50),
    './src/a/b/': all(50),
    './src/only-folders/c/': all(50),
    './src/sms/': all(90),
    './src/compliance/': all(95),
    './src/resilience/': all(90),
    './src/twilio/webhooks/': all(99),
  };

  it('needs a floor for every folder holding a .ts file and every file directly in src/', () => {
    expect(coverageKeys(root)).toEqual([
      './src/a/',
      './src/a/b/',
      './src/ab/',
      './src/compliance/',
      './src/main.ts',
      './src/only-folders/c/',
      './src/resilience/',
      './src/sms/',
      './src/twilio/webhooks/',
    ]);
    expect(checkCoverageFloors(root, complete)).toEqual([]);
  });

  it('catches a new folder without a floor, a missing metric, a floor for a folder that is gone and a named folder under 90 % lines', () => {
    const { './src/a/b/': _gone, ...withoutB } = complete;
    expect(checkCoverageFloors(root, withoutB)).toEqual([
      'coverage: ./src/a/b/ has no floor in jest.config.js coverageThreshold',
    ]);
    expect(checkCoverageFloors(root, { ...complete, './src/a/': { lines: 50, branches: 50 } })).toEqual([
      'coverage: ./src/a/ has no functions/statements floor',
    ]);
    expect(checkCoverageFloors(root, { ...complete, './src/old/': all(80) })).toEqual([
      'coverage: floor for ./src/old/, which does not exist',
    ]);
    expect(checkCoverageFloors(root, { ...complete, './src/compliance/': { ...all(95), lines: 89 } })).toEqual([
      'coverage: ./src/compliance/ lines floor 89 is below 90 %',
    ]);
    expect(checkCoverageFloors(root, undefined)).toEqual(['coverage: jest.config.js has no coverageThreshold']);
  });

  it('sums a folder the way jest does: every file below it, and ./src/a/ is not ./src/ab/', () => {
    const summary: CoverageSummary = {
      total: file(0, 0),
      [path.join(root, 'src/a/x.ts')]: file(1, 4),
      [path.join(root, 'src/a/b/z.ts')]: file(4, 4),
      [path.join(root, 'src/ab/y.ts')]: file(0, 10),
      [path.join(root, 'src/main.ts')]: file(2, 3),
    };
    expect(measured(root, summary, './src/a/')).toEqual(all(62.5));
    expect(measured(root, summary, './src/a/b/')).toEqual(all(100));
    expect(measured(root, summary, './src/ab/')).toEqual(all(0));
    expect(measured(root, summary, './src/main.ts')).toEqual(all(66.666));
    expect(measured(root, summary, './src/sms/')).toBeUndefined();
    // Raising: rounded down (branches and functions one point under, for what timing decides), never lowered,
    // new folders get their measured floor.
    const floors = raised(root, { './src/a/': all(70), './src/main.ts': all(10) }, summary);
    expect(floors['./src/a/']).toEqual(all(70));
    expect(floors['./src/main.ts']).toEqual({ lines: 66, statements: 66, branches: 65, functions: 65 });
    expect(floors['./src/a/b/']).toEqual({ lines: 100, statements: 100, branches: 99, functions: 99 });
    // A folder with nothing counted (0 of 0) is floored at 0, not at the 100 % istanbul reports for it.
    const none = { ...summary, [path.join(root, 'src/sms/s.ts')]: { ...file(0, 9), branches: counter(0, 0) } };
    expect(raised(root, {}, none)['./src/sms/']).toEqual({ ...all(0) });
    expect(measured(root, none, './src/sms/')!.branches).toBe(100);
  });

  it('rewrites only the coverageThreshold block of the config', () => {
    const config =
      "module.exports = {\n  coverageThreshold: {\n    './src/a/': { lines: 1 },\n  },\n  projects: [],\n};\n";
    expect(replaceFloors(config, { './src/a/': all(5) })).toBe(
      "module.exports = {\n  coverageThreshold: {\n    './src/a/': { lines: 5, branches: 5, functions: 5, statements: 5 },\n  },\n  projects: [],\n};\n",
    );
    expect(() => replaceFloors('module.exports = {};\n', {})).toThrow('no `  coverageThreshold: {`');
  });

  it('the repository: jest.config.js has a floor for every folder of src/ and 90 % lines for the four named ones', () => {
    const repo = path.resolve(__dirname, '../../..');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const config = require(path.join(repo, 'jest.config.js')) as { coverageThreshold?: Floors };
    expect(checkCoverageFloors(repo, config.coverageThreshold)).toEqual([]);
  });
});
