/**
 * Benchmark: TemplateRegistry.render (declared-variable checks, rendering,
 * then the body rules including segment counting) against a naive
 * `String.replace` of `{{name}}` placeholders with no checks, in the same run.
 *
 *   npm run bench templates
 */
import { TemplateRegistry } from '../src/sms/templates';
import { SmsValidator } from '../src/sms/validate';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const TEMPLATE = 'Hi {{name}}, your order #{{order}} ships {{day}}. Track: {{url}} Reply STOP to opt out.';
const VALUES = { name: 'Samantha', order: 123456, day: 'Tuesday', url: 'https://ex.co/t/AbC123' };

function naiveRender(body: string, values: Readonly<Record<string, string | number>>): string {
  return body.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => String(values[k]));
}

function nsPerOp(fn: () => unknown, minMs = 500): number {
  let iterations = 0;
  let sink: unknown;
  for (let i = 0; i < 1000; i++) sink = fn();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(minMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) sink = fn();
    iterations += 100;
    now = process.hrtime.bigint();
  }
  if (sink === Symbol.for('never')) throw new Error('unreachable');
  return Number(now - start) / iterations;
}

async function run(): Promise<BenchmarkReport> {
  const registry = new TemplateRegistry({ validator: new SmsValidator({ maxSegments: 10 }) }, [
    { name: 'order.shipped', body: TEMPLATE, variables: ['name', 'order', 'day', 'url'] },
  ]);
  const rendered = registry.render('order.shipped', VALUES);
  if (!rendered.ok || rendered.body !== naiveRender(TEMPLATE, VALUES)) throw new Error('renderers disagree');
  const ours = nsPerOp(() => registry.render('order.shipped', VALUES));
  const naive = nsPerOp(() => naiveRender(TEMPLATE, VALUES));
  return {
    lines: [
      `One ${rendered.body.length}-character GSM-7 body from four variables.`,
      '',
      ...table(
        ['render', 'per message', 'renders/s'],
        [
          ['TemplateRegistry.render (checks + body rules + segments)', `${fmtInt(ours)} ns`, fmtInt(1e9 / ours)],
          ['baseline: String.replace, no checks', `${fmtInt(naive)} ns`, fmtInt(1e9 / naive)],
        ],
      ),
      '',
      `Ratio to baseline: ${(ours / naive).toFixed(1)}.`,
    ],
  };
}

registerBenchmark({ name: 'templates', title: 'Template rendering per message', run });
