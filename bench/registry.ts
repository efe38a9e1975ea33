/**
 * Benchmarks register themselves here when their module is loaded; bench/run
 * loads every module in this folder and runs what registered (or, for a
 * module that only exports `run()`, that function).
 */
export interface BenchmarkReport {
  /** Markdown lines for the benchmark's section of docs/benchmarks.md (date and machine are added). */
  lines: string[];
  /** False when a target was missed: `npm run bench` then exits non-zero. */
  targetMet?: boolean;
  /**
   * The broker the figures were measured on (bench/broker.ts). The section is then keyed
   * `name (Apache Kafka)` / `name (mock)` / `name (external)`, so runs on different brokers keep a section each,
   * and its heading names the broker.
   */
  broker?: { kind: 'kafka' | 'mock' | 'external'; label: string };
}

export interface Benchmark {
  /** Key of the section in docs/benchmarks.md and the name the filter matches. */
  name: string;
  title: string;
  run(): Promise<BenchmarkReport>;
}

const benchmarks: Benchmark[] = [];

export function registerBenchmark(benchmark: Benchmark): void {
  if (benchmarks.some((b) => b.name === benchmark.name)) {
    throw new Error(`benchmark ${benchmark.name} is registered twice`);
  }
  benchmarks.push(benchmark);
}

export function registeredBenchmarks(): readonly Benchmark[] {
  return benchmarks;
}
