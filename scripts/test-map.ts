/**
 * Tests follow the code: the unit test of `src/x/y.ts` is `test/unit/x/y.test.ts`,
 * and a product file without one must be listed in docs/contributing.md's table
 * ("Product files without a unit test at the matching path") with the tests that
 * cover it, each an existing file. Stale rows (a file gone, or one that now has
 * its unit test) are drifts too. Folder `index.ts` files only re-export and need
 * no test. `--write` rewrites the table from the tree (each file: the first tests
 * found that import it), keeping the tests already named where they still exist.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const HEADING = '## Product files without a unit test at the matching path';

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Product files (src/**.ts, not index.ts or .d.ts) without test/unit/<same path>.test.ts. */
export function untestedFiles(root: string): string[] {
  return walk(path.join(root, 'src'))
    .map((p) => path.relative(root, p).split(path.sep).join('/'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('/index.ts'))
    .filter((f) => !existsSync(path.join(root, 'test/unit', f.slice('src/'.length).replace(/\.ts$/, '.test.ts'))))
    .sort();
}

/** The table's rows: file → tests named for it. */
export function readTable(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const start = markdown.indexOf(HEADING);
  if (start < 0) return rows;
  for (const line of markdown.slice(start).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const m = /^\|\s*`(src\/[^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    rows.set(
      m[1]!,
      [...m[2]!.matchAll(/`([^`]+)`/g)].map((t) => t[1]!),
    );
  }
  return rows;
}

/** Every drift between the table and the tree, as readable lines. */
export function checkTestMap(root: string, markdown: string): string[] {
  const problems: string[] = [];
  const untested = untestedFiles(root);
  const table = readTable(markdown);
  for (const f of untested) {
    const tests = table.get(f);
    if (!tests || tests.length === 0) {
      problems.push(`tests: ${f} has no unit test at the matching path and no covering test in docs/contributing.md`);
      continue;
    }
    for (const t of tests)
      if (!existsSync(path.join(root, t))) problems.push(`tests: ${f} is covered by ${t}, which does not exist`);
  }
  const needed = new Set(untested);
  for (const f of table.keys()) {
    if (!needed.has(f)) {
      problems.push(
        existsSync(path.join(root, f))
          ? `tests: ${f} has its unit test now; remove its row from docs/contributing.md`
          : `tests: ${f} is listed in docs/contributing.md but does not exist`,
      );
    }
  }
  return problems;
}

/** The relative imports of a TypeScript file, resolved to repository paths without extension. */
function importsOf(root: string, file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/from '(\.[^']*)'/g)].map((m) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)).replace(/\/index$|\.ts$/, ''),
  );
}

/**
 * The tests (unit first) that import `file`, or, failing that, a product file that imports it (its folder's
 * index or a neighbour): the first higher-level tests that reach it.
 */
function testsImporting(root: string, file: string, testFiles: string[], productFiles: string[]): string[] {
  const stem = file.replace(/\.ts$/, '');
  const folder = path.posix.dirname(file);
  const order = (a: string, b: string) =>
    Number(!a.startsWith('test/unit/')) - Number(!b.startsWith('test/unit/')) || a.localeCompare(b);
  const importers = (targets: Set<string>) =>
    testFiles.filter((t) => importsOf(root, t).some((i) => targets.has(i))).sort(order);
  const direct = importers(new Set([stem]));
  if (direct.length > 0) return direct;
  const via = new Set(
    productFiles
      .filter((f) => importsOf(root, f).includes(stem))
      .map((f) => (f.endsWith('/index.ts') ? folder : f.replace(/\.ts$/, ''))),
  );
  return importers(via);
}

export function writeTable(root: string, markdown: string): string {
  const table = readTable(markdown);
  const testFiles = walk(path.join(root, 'test'))
    .map((p) => path.relative(root, p).split(path.sep).join('/'))
    .filter((f) => f.endsWith('.test.ts'));
  const productFiles = walk(path.join(root, 'src'))
    .map((p) => path.relative(root, p).split(path.sep).join('/'))
    .filter((f) => f.endsWith('.ts'));
  const rows = untestedFiles(root).map((f) => {
    const kept = (table.get(f) ?? []).filter((t) => existsSync(path.join(root, t)));
    const tests = kept.length > 0 ? kept : testsImporting(root, f, testFiles, productFiles).slice(0, 2);
    return `| \`${f}\` | ${tests.length > 0 ? tests.map((t) => `\`${t}\``).join(', ') : ''} |`;
  });
  const start = markdown.indexOf(HEADING);
  const rest = markdown.slice(start + HEADING.length);
  const next = rest.search(/\n## /);
  const body = [
    '',
    '',
    'Each is covered by the tests named here (`npm run check:architecture` checks this table against the tree;',
    '`node dist/scripts/test-map.js --write` rewrites it, naming the first tests that import a new file).',
    '',
    '| File | Covered by |',
    '| --- | --- |',
    ...rows,
    '',
  ].join('\n');
  return markdown.slice(0, start + HEADING.length) + body + (next >= 0 ? rest.slice(next) : '');
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', ...(__dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
  const doc = path.join(root, 'docs/contributing.md');
  const markdown = readFileSync(doc, 'utf8');
  if (process.argv.includes('--write')) {
    writeFileSync(doc, writeTable(root, markdown));
  } else {
    const problems = checkTestMap(root, markdown);
    for (const p of problems) console.error(p);
    process.exit(problems.length > 0 ? 1 : 0);
  }
}
