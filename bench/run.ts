/**
 * `npm run bench [name…]`: loads every module in this folder, runs the
 * benchmarks they register (the one an argument names exactly, else those whose
 * name contains one of the arguments, or all), and writes each one's section of docs/benchmarks.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { brokerKindName } from './broker';
import { registerBenchmark, registeredBenchmarks, type BenchmarkReport } from './registry';
import { machineDescription, renderSection, writeSection } from './report';

const SELF = new Set(['run', 'registry', 'report', 'topics', 'broker', 'harness']);

function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above bench/');
    dir = up;
  }
  return dir;
}

type LegacyModule = { run?: () => Promise<{ name?: string; lines: string[] }> };

function loadModules(): void {
  const ext = path.extname(__filename);
  for (const file of readdirSync(__dirname).sort()) {
    if (path.extname(file) !== ext || file.endsWith('.d.ts')) continue;
    const base = path.basename(file, ext);
    if (SELF.has(base)) continue;
    const before = registeredBenchmarks().length;
    const mod = require(path.join(__dirname, file)) as LegacyModule; // eslint-disable-line @typescript-eslint/no-require-imports
    const legacy = mod.run;
    // A module that exports run() without registering runs as a benchmark named after its file.
    if (registeredBenchmarks().length === before && typeof legacy === 'function') {
      registerBenchmark({
        name: base,
        title: base,
        run: async (): Promise<BenchmarkReport> => ({ lines: (await legacy()).lines }),
      });
    }
  }
}

async function main(filters: string[]): Promise<number> {
  loadModules();
  // A filter that names a benchmark exactly selects only it (`voice` is not also `voice-ops`); otherwise it
  // selects every benchmark whose name contains it.
  const all = registeredBenchmarks();
  const matches = (f: string, name: string) => (all.some((b) => b.name === f) ? name === f : name.includes(f));
  const selected = all.filter((b) => filters.length === 0 || filters.some((f) => matches(f, b.name)));
  if (selected.length === 0) {
    console.error(
      `no benchmark matches ${filters.join(', ')}; known: ${registeredBenchmarks()
        .map((b) => b.name)
        .join(', ')}`,
    );
    return 2;
  }
  const docs = process.env.BENCH_REPORT ?? path.join(projectRoot(), 'docs', 'benchmarks.md');
  let failures = 0;
  for (const bench of selected) {
    console.log(`\n== ${bench.name}: ${bench.title}`);
    try {
      const report = await bench.run();
      // One section per benchmark and broker: "publish (Apache Kafka)" and "publish (mock)" both stay.
      const name = report.broker ? `${bench.name} (${brokerKindName(report.broker.kind)})` : bench.name;
      const title = report.broker ? `${bench.title} — ${report.broker.label}` : bench.title;
      const section = renderSection({
        name,
        title,
        date: new Date(),
        machine: machineDescription(),
        lines: report.lines,
      });
      console.log(report.lines.join('\n'));
      await writeSection(docs, name, section);
      if (report.targetMet === false) {
        failures++;
        console.error(`${bench.name}: target NOT met`);
      }
    } catch (err) {
      failures++;
      console.error(`${bench.name} failed:`, err);
    }
  }
  console.log(`\nresults written to ${docs}`);
  return failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
