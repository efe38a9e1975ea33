/**
 * Benchmark: ConsentStore.isOptedOut with 1,000,000 numbers loaded, next to a
 * plain Map<string, boolean>.get over the same numbers (what a naive store
 * would pay), in the same run. Also the memory each one takes (JS heap plus
 * ArrayBuffers).
 *
 * Lookups are timed one by one with process.hrtime.bigint(); the timer's own
 * cost (measured around an empty call) is reported and included, so the
 * percentiles are upper bounds. Query strings are fresh copies, not the Map's
 * keys, as numbers decoded from an egress request would be.
 *
 *   npm run bench consent        BENCH_CONSENT_NUMBERS=200000 npm run bench consent
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EventOf } from '../src/envelope';
import { ConsentStore } from '../src/compliance/consent-store';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const TARGET_P99_NS = 1000;
const NUMBERS = Number(process.env.BENCH_CONSENT_NUMBERS ?? 1_000_000);
const LOOKUPS = 1_000_000;
const ACCOUNT = 'AC' + '0'.repeat(31) + '1';
const SENDERS = Array.from({ length: 10 }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`);
const SERVICES = Array.from({ length: 3 }, (_, i) => 'MG' + String(i).padStart(32, '0'));

// Node exposes gc() only with --expose-gc; the flag can still be set at run time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap plus ArrayBuffer memory (the store's table lives in a typed array, outside the JS heap). */
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const optedOutNumber = (i: number) => `+1${String(2_000_000_000 + i)}`;
const otherNumber = (i: number) => `+1${String(3_000_000_000 + i)}`;

/** A consent envelope as the loader would hand it over (already validated). */
function consentEvent(i: number): EventOf<'sms.consent.changed'> {
  const r = i % 20;
  const scope =
    r < 16
      ? { kind: 'sender' as const, sender: SENDERS[i % SENDERS.length]! }
      : r < 18
        ? { kind: 'messaging_service' as const, messagingServiceSid: SERVICES[i % SERVICES.length]! }
        : { kind: 'account' as const };
  const at = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
  return {
    specVersion: '2',
    id: `bench-${i}`,
    type: 'sms.consent.changed',
    source: 'twilio',
    occurredAt: at,
    ingestedAt: at,
    tenant: { accountSid: ACCOUNT },
    // A fresh string per event, as JSON.parse would produce.
    subject: optedOutNumber(i),
    data: { action: 'opt_out', phoneNumber: optedOutNumber(i), scope, via: 'keyword' },
  };
}

interface Timing {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  meanBatch: number;
}

/** Per-call latency of `fn` over the queries, plus the mean from an untimed loop (no timer cost). */
function timeLookups(queries: string[], fn: (q: string) => boolean): Timing {
  const samples = new Float64Array(queries.length);
  let sink = 0;
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i]!;
    const t0 = process.hrtime.bigint();
    if (fn(q)) sink++;
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < queries.length; i++) if (fn(queries[i]!)) sink++;
  const meanBatch = Number(process.hrtime.bigint() - t0) / queries.length;
  if (sink < 0) throw new Error('unreachable');
  samples.sort();
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: samples[samples.length - 1]!, meanBatch };
}

function timerOverhead(): number {
  const n = 200_000;
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  samples.sort();
  return samples[Math.floor(n / 2)]!;
}

/** Half the queries hit loaded numbers (with varying senders), half miss; each is a fresh string. */
function makeQueries(): { numbers: string[]; senders: string[] } {
  const numbers: string[] = [];
  const senders: string[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const n = (i * 7919) % NUMBERS;
    numbers.push(i % 2 === 0 ? `+1${String(2_000_000_000 + n)}` : otherNumber(n));
    senders.push(SENDERS[i % SENDERS.length]!);
  }
  return { numbers, senders };
}

async function run(): Promise<BenchmarkReport> {
  const base = heapUsed();
  const store = new ConsentStore();
  for (let i = 0; i < NUMBERS; i++) store.apply(consentEvent(i));
  const storeHeap = heapUsed() - base;

  const base2 = heapUsed();
  const plain = new Map<string, boolean>();
  for (let i = 0; i < NUMBERS; i++) plain.set(optedOutNumber(i), true);
  const mapHeap = heapUsed() - base2;

  const { numbers, senders } = makeQueries();
  const overhead = timerOverhead();
  let k = 0;
  const ctx = { from: '', messagingServiceSid: SERVICES[0] };
  // Warm both paths so the JIT has settled before the timed passes.
  for (let i = 0; i < 200_000; i++) store.isOptedOut(ACCOUNT, numbers[i]!, { from: senders[i]! });
  for (let i = 0; i < 200_000; i++) plain.get(numbers[i]!);

  const storeTiming = timeLookups(numbers, (q) => {
    ctx.from = senders[k++ % LOOKUPS]!;
    return store.isOptedOut(ACCOUNT, q, ctx);
  });
  const freshQueries = makeQueries().numbers;
  const mapTiming = timeLookups(freshQueries, (q) => plain.get(q) === true);

  const ratio = storeTiming.meanBatch / mapTiming.meanBatch;
  const targetMet = storeTiming.p99 < TARGET_P99_NS;
  const ns = (v: number) => `${fmtInt(v)} ns`;
  return {
    targetMet,
    lines: [
      `${fmtInt(NUMBERS)} numbers opted out (80% of one of 10 sender numbers, 10% of a messaging service, 10% account-wide`,
      `STOPALL); ${fmtInt(LOOKUPS)} lookups, half of loaded numbers (any of the 10 senders, with a messaging service),`,
      'half of numbers never seen. Each lookup timed alone; the timer itself costs about ' +
        `${fmtInt(overhead)} ns and is included. "Mean" is from an untimed pass.`,
      '',
      ...table(
        ['lookup', 'p50', 'p99', 'p99.9', 'max', 'mean', 'memory'],
        [
          [
            'ConsentStore.isOptedOut',
            ns(storeTiming.p50),
            ns(storeTiming.p99),
            ns(storeTiming.p999),
            ns(storeTiming.max),
            `${storeTiming.meanBatch.toFixed(0)} ns`,
            `${(storeHeap / 1024 ** 2).toFixed(0)} MB (${fmtInt(storeHeap / NUMBERS)} B/number)`,
          ],
          [
            'baseline: Map<string, boolean>.get',
            ns(mapTiming.p50),
            ns(mapTiming.p99),
            ns(mapTiming.p999),
            ns(mapTiming.max),
            `${mapTiming.meanBatch.toFixed(0)} ns`,
            `${(mapHeap / 1024 ** 2).toFixed(0)} MB (${fmtInt(mapHeap / NUMBERS)} B/number)`,
          ],
        ],
      ),
      '',
      `Mean ratio store/baseline: ${ratio.toFixed(2)}. Target p99 < 1 µs: ${targetMet ? 'met' : 'NOT met'}` +
        ` (${ns(storeTiming.p99)}). Memory ratio: ${(storeHeap / mapHeap).toFixed(2)}.`,
      'Max values are single outliers (GC pauses, interrupts); p99.9 shows the tail.',
    ],
  };
}

registerBenchmark({ name: 'consent', title: 'Consent store: opt-out lookup with 1,000,000 numbers', run });
