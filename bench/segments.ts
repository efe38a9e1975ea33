/**
 * Benchmark: segment calculation per message body. src/sms/encoding's
 * analyzeSms against two references in the same run: a naive loop (one
 * table lookup per character, then ceil(septets / 153); no grapheme rules,
 * no non-GSM list) as the floor, and Twilio's sms-segments-calculator, whose
 * answers analyzeSms reproduces (property tests check that).
 *
 *   npm run bench segments
 */
import { SegmentedMessage } from 'sms-segments-calculator';
import GSM_TABLE from 'sms-segments-calculator/dist/libs/UnicodeToGSM';
import { analyzeSms } from '../src/sms/encoding';
import { registerBenchmark, type BenchmarkReport } from './registry';
import { fmtInt, table } from './report';

const GSM_UNITS = new Uint8Array(0x10000);
for (const [code, units] of Object.entries(GSM_TABLE)) GSM_UNITS[Number(code)] = units.length;

/** The floor: count septets or UTF-16 units in one pass and divide. */
function naiveSegments(text: string): number {
  let septets = 0;
  let gsm = true;
  for (let i = 0; i < text.length; i++) {
    const u = GSM_UNITS[text.charCodeAt(i)]!;
    if (u === 0) gsm = false;
    septets += u;
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
}

const BODIES: [string, string][] = [
  ['GSM-7, 52 chars', 'Your code is 482913. It expires in 10 minutes. -ACME'],
  [
    'GSM-7, 160 chars',
    'Hi Sam, your order #12345 has shipped and should arrive on Tuesday. Track it at https://ex.co/t/AbC123 or reply HELP for help. Reply STOP to opt out. Thanks!!!!'.slice(
      0,
      160,
    ),
  ],
  ['GSM-7 with {€}, 459 chars', 'Reminder: {appointment} at 10:30, fee €20. '.repeat(11).slice(0, 459)],
  ['UCS-2 Cyrillic, 200 chars', 'Ваш код подтверждения 4829. '.repeat(8).slice(0, 200)],
  ['UCS-2 with emoji, 120 chars', 'Thanks for your order 🎉🙂 see you soon 👍🏽 '.repeat(4).slice(0, 120)],
];

function nsPerOp(fn: () => unknown, minMs = 300): number {
  let iterations = 0;
  let sink: unknown;
  // Warm-up so every path is compiled.
  for (let i = 0; i < 200; i++) sink = fn();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(minMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 50; i++) sink = fn();
    iterations += 50;
    now = process.hrtime.bigint();
  }
  if (sink === Symbol.for('never')) throw new Error('unreachable');
  return Number(now - start) / iterations;
}

async function run(): Promise<BenchmarkReport> {
  const rows: string[][] = [];
  for (const [label, body] of BODIES) {
    const ours = nsPerOp(() => analyzeSms(body));
    const naive = nsPerOp(() => naiveSegments(body));
    const calculator = nsPerOp(() => new SegmentedMessage(body, 'auto', false).segmentsCount, 600);
    const a = analyzeSms(body);
    rows.push([
      label,
      `${a.encoding}, ${a.segments}`,
      `${fmtInt(ours)} ns`,
      `${fmtInt(naive)} ns`,
      (ours / naive).toFixed(1),
      `${fmtInt(calculator)} ns`,
      `${fmtInt(calculator / ours)}×`,
    ]);
  }
  return {
    lines: [
      'Time per message body. The naive loop is the floor (it ignores grapheme rules and never splits a',
      'character correctly at segment edges); sms-segments-calculator is the reference analyzeSms agrees with.',
      '',
      ...table(
        [
          'body',
          'encoding, segments',
          'analyzeSms',
          'baseline: naive loop',
          'ratio to baseline',
          'sms-segments-calculator',
          'calculator / analyzeSms',
        ],
        rows,
      ),
      '',
      'Bodies whose UCS-2 characters can join (emoji with modifiers, combining marks) are split into graphemes',
      'with the calculator’s own splitter, which dominates their cost.',
    ],
  };
}

registerBenchmark({ name: 'segments', title: 'SMS segment calculation per message', run });
