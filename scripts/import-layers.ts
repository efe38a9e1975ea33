/**
 * The layering half of the architecture check: reads the relative imports of
 * the TypeScript files under the given folders and reports every import that
 * runs up a layer of architecture.yaml `layers:` (listed top first), every
 * import cycle between the folders of `parts:`, and every file that sits in no layer.
 * Type-only imports count: a folder that names a type from a higher one
 * depends on it all the same.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** One import: both ends relative to the root, with `/` separators. */
export interface ImportEdge {
  from: string;
  to: string;
}

const IMPORT_RE = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, ''));
  return [`${base}.ts`, path.join(base, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile());
}

/** The relative imports of every .ts file under `folders` (relative to `root`) that land on a .ts file. */
export function readImports(root: string, folders: readonly string[]): ImportEdge[] {
  const rel = (p: string): string => path.relative(root, p).split(path.sep).join('/');
  const edges: ImportEdge[] = [];
  for (const file of folders.flatMap((f) => tsFiles(path.join(root, f)))) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
      const target = m[1] === undefined ? undefined : resolveImport(file, m[1]);
      if (target) edges.push({ from: rel(file), to: rel(target) });
    }
  }
  return edges;
}

/**
 * `layers` lists the layers top first; each layer names one or more folders
 * (or single files, e.g. src/main.ts). A file belongs to the longest folder
 * that contains it.
 */
export function checkLayers(
  edges: readonly ImportEdge[],
  layers: readonly (string | string[])[],
  folders: readonly string[] = [],
): string[] {
  const levelOf = new Map<string, number>();
  layers.forEach((layer, i) => {
    for (const part of Array.isArray(layer) ? layer : [layer]) levelOf.set(part, layers.length - i);
  });
  const parts = [...levelOf.keys()].sort((a, b) => b.length - a.length);
  const partOf = (file: string): string | undefined => parts.find((p) => file === p || file.startsWith(`${p}/`));

  const problems: string[] = [];
  const outside = new Set<string>();
  for (const { from, to } of edges) {
    for (const f of [from, to]) if (!partOf(f)) outside.add(f);
    const a = partOf(from);
    const b = partOf(to);
    if (a && b && levelOf.get(a)! < levelOf.get(b)!)
      problems.push(`upward import: ${from} -> ${to} (${a} is below ${b})`);
  }
  for (const f of [...outside].sort()) problems.push(`layer: ${f} is in no layer of architecture.yaml`);
  for (const cycle of folderCycles(edges, folders)) problems.push(`folder cycle: ${cycle.join(' <-> ')}`);
  return problems;
}

/**
 * Folders that import each other, directly or around a loop; each cycle sorted.
 * A file belongs to the longest of `folders` that holds it (its own directory
 * when none does), so a part's sub-folders count as the part.
 */
export function folderCycles(edges: readonly ImportEdge[], folders: readonly string[] = []): string[][] {
  const longestFirst = [...folders].sort((a, b) => b.length - a.length);
  const folderOf = (file: string): string =>
    longestFirst.find((f) => file.startsWith(`${f}/`)) ?? path.posix.dirname(file);
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  // Tarjan's strongly connected components; a component of two or more folders is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}
