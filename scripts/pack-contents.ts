/**
 * The shipping half of the architecture check: what `npm pack` of the service
 * would publish. Only the service goes in — its README, package.json and the
 * build of src/ — never the simulator, the sandbox, the local broker, the
 * local Schema Registry, a test double, a test, a benchmark or a script.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const TOP_LEVEL = new Set(['package.json', 'README.md', 'LICENSE']);
const BUILT = /^dist\/(src\/.+)\.(?:js|d\.ts|js\.map)$/;

/** The files `npm pack --dry-run` lists for the package at `root`. */
export function packedFiles(root: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return (pack?.files ?? []).map((f) => f.path);
}

/**
 * Every packed file must be a top-level file of the service or the build of a
 * source file that exists under src/ (`hasSource('src/x/y')` answers for
 * src/x/y.ts); anything else (a tool, a test double, stale build output) is
 * named with the reason.
 */
export function checkPackContents(files: readonly string[], hasSource: (stem: string) => boolean): string[] {
  const problems: string[] = [];
  for (const file of files) {
    if (TOP_LEVEL.has(file)) continue;
    const m = BUILT.exec(file);
    if (!m?.[1]) problems.push(`npm pack: ${file} is not part of the service (only dist/src/ ships)`);
    else if (!hasSource(m[1]))
      problems.push(`npm pack: ${file} has no source under src/ (a moved tool or stale build output: rebuild)`);
  }
  return problems;
}

/** The pack check of the service at `root`. */
export function checkServicePack(root: string): string[] {
  return checkPackContents(packedFiles(root), (stem) => existsSync(path.join(root, `${stem}.ts`)));
}
