import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkTestMap, untestedFiles, writeTable } from '../../../scripts/test-map';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'test-map-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return root;
}

const DOC = (rows: string) =>
  `# Contributing\n\n## Product files without a unit test at the matching path\n\n| File | Covered by |\n| --- | --- |\n${rows}\n\n## Next\n`;

describe('the tests-follow-the-code check', () => {
  const root = tree({
    'src/a/b.ts': 'export const b = 1;\n',
    'src/a/c.ts': "import { b } from './b';\nexport const c = b;\n",
    'src/a/index.ts': "export * from './c';\n",
    'test/unit/a/b.test.ts': "import { b } from '../../../src/a/b';\n",
    'test/integration/a/c.test.ts': "import { c } from '../../../src/a';\n",
  });

  it('finds the product files without a unit test at the matching path (index files need none)', () => {
    expect(untestedFiles(root)).toEqual(['src/a/c.ts']);
  });

  it('passes when each is covered by an existing test named in the table', () => {
    expect(checkTestMap(root, DOC('| `src/a/c.ts` | `test/integration/a/c.test.ts` |'))).toEqual([]);
  });

  it('catches a file planted without any test, a covering test that does not exist, and stale rows', () => {
    expect(checkTestMap(root, DOC(''))).toEqual([
      'tests: src/a/c.ts has no unit test at the matching path and no covering test in docs/contributing.md',
    ]);
    expect(checkTestMap(root, DOC('| `src/a/c.ts` | `test/integration/a/gone.test.ts` |'))).toEqual([
      'tests: src/a/c.ts is covered by test/integration/a/gone.test.ts, which does not exist',
    ]);
    const stale = DOC(
      '| `src/a/c.ts` | `test/integration/a/c.test.ts` |\n| `src/a/b.ts` | `test/unit/a/b.test.ts` |\n| `src/a/x.ts` | `t` |',
    );
    expect(checkTestMap(root, stale)).toEqual([
      'tests: src/a/b.ts has its unit test now; remove its row from docs/contributing.md',
      'tests: src/a/x.ts is listed in docs/contributing.md but does not exist',
    ]);
  });

  it('--write names the first tests that reach a file, through its folder index', () => {
    const written = writeTable(root, DOC(''));
    expect(written).toContain('| `src/a/c.ts` | `test/integration/a/c.test.ts` |');
    expect(written).toContain('## Next');
    expect(checkTestMap(root, written)).toEqual([]);
  });
});
