import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * docs/benchmarks.md is shared by every benchmark: each owns one section,
 * delimited by HTML comments keyed by its name, replaced when it runs again
 * and left alone when another benchmark runs.
 */
const HEADER = [
  '# Benchmarks',
  '',
  'Written by `npm run bench [name…]` (bench/run.ts); each section is replaced when its benchmark runs again.',
  'Figures are from the machine named in the section; compare ratios measured in the same run, not absolute numbers across machines.',
  'Benchmarks that need Kafka run on the broker bench/broker.ts picks (KAFKA_BROKERS, else BENCH_BROKER=kafka|mock, else',
  'Apache Kafka when `java` is on PATH) and keep one section per broker, e.g. `publish (Apache Kafka)` and `publish (mock)`.',
  '',
].join('\n');

const start = (name: string) => `<!-- bench:${name}:start -->`;
const end = (name: string) => `<!-- bench:${name}:end -->`;

/** Cores, CPU model, memory and Node version: what the figures depend on. */
export function machineDescription(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const gb = Math.round(os.totalmem() / 1024 ** 3);
  return `${cpus.length} cores (${model}), ${gb} GB RAM, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

export function renderSection(section: {
  name: string;
  title: string;
  date: Date;
  machine: string;
  lines: string[];
}): string {
  return [
    start(section.name),
    `## ${section.title}`,
    '',
    `Run ${section.date.toISOString().replace(/\.\d{3}Z$/, 'Z')} on ${section.machine}.`,
    '',
    ...section.lines,
    end(section.name),
  ].join('\n');
}

/**
 * The document with `name`'s section replaced; a new section goes after the last one of the same benchmark
 * on another broker (`publish (mock)` after `publish (Apache Kafka)`), or at the end.
 */
export function mergeSection(doc: string, name: string, section: string): string {
  const base = doc.trim() === '' ? HEADER : doc;
  const from = base.indexOf(start(name));
  const to = base.indexOf(end(name));
  if (from >= 0 && to > from) {
    return base.slice(0, from) + section + base.slice(to + end(name).length);
  }
  const bench = name.replace(/ \(.*\)$/, '');
  let after = -1;
  for (const m of base.matchAll(/<!-- bench:(.+?):end -->/g)) {
    if (m[1] === bench || m[1]!.startsWith(`${bench} (`)) after = m.index + m[0].length;
  }
  if (after >= 0) return `${base.slice(0, after)}\n\n${section}${base.slice(after)}`;
  return `${base.replace(/\n*$/, '\n\n')}${section}\n`;
}

export async function writeSection(file: string, name: string, section: string): Promise<void> {
  const doc = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, mergeSection(doc, name, section));
}

/** A markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(String).join(' | ')} |`),
  ];
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "ratio 0.93 (target ≥ 0.8: met)" */
export function ratioText(ratio: number, target: number): string {
  return `${ratio.toFixed(2)} (target ≥ ${target}: ${ratio >= target ? 'met' : 'NOT met'})`;
}
