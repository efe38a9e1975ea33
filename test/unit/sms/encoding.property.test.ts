import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import GSM_TABLE from 'sms-segments-calculator/dist/libs/UnicodeToGSM';
import { splitGraphemes } from 'sms-segments-calculator/dist/libs/textUtils';
import { analyzeSms, mayJoinGrapheme } from '../../../src/sms/encoding';

const GSM_CHARS = Object.keys(GSM_TABLE).map((c) => String.fromCharCode(Number(c)));
const GSM_BASIC = GSM_CHARS.filter((c) => GSM_TABLE[c.charCodeAt(0)]!.length === 1);
const GSM_EXTENSION = GSM_CHARS.filter((c) => GSM_TABLE[c.charCodeAt(0)]!.length === 2);
// Non-GSM characters that never join a neighbour (Cyrillic, Greek lower case, CJK, Hebrew, symbols).
const UCS2_SIMPLE = [...'жщюяфлбгдπλσωあア中文한국שלוםæ€✓→‘’“”–—'].filter((c) => !GSM_CHARS.includes(c));

const gsmChar = fc.constantFrom(...GSM_CHARS);
const gsmText = (maxLength: number) => fc.string({ unit: gsmChar, maxLength, size: 'max' });
const simpleUcs2Text = (minLength: number, maxLength: number) =>
  fc
    .tuple(
      fc.string({ unit: fc.oneof(gsmChar, fc.constantFrom(...UCS2_SIMPLE)), minLength, maxLength, size: 'max' }),
      fc.constantFrom(...UCS2_SIMPLE),
      fc.nat(),
    )
    .map(([s, forced, at]) => {
      // At least one non-GSM character, so the text is UCS-2 whatever was drawn.
      const i = s.length === 0 ? 0 : at % s.length;
      return s.slice(0, i) + forced + s.slice(i + 1);
    });

function calculator(text: string, smart = false) {
  const m = new SegmentedMessage(text, 'auto', smart);
  return { encoding: m.encodingName, segments: m.segmentsCount, nonGsm: [...new Set(m.getNonGsmCharacters())] };
}

function expectAgreement(text: string, smart = false): void {
  const ours = analyzeSms(text, { smartEncoding: smart });
  const ref = calculator(text, smart);
  expect({ encoding: ours.encoding, segments: ours.segments, nonGsm: ours.nonGsmCharacters }).toEqual(ref);
}

describe('analyzeSms agrees with sms-segments-calculator', () => {
  it('on random GSM-7 text (basic and extension characters)', () => {
    fc.assert(
      fc.property(gsmText(700), (text) => {
        expectAgreement(text);
        expect(analyzeSms(text).encoding).toBe('GSM-7');
      }),
      { numRuns: 300 },
    );
  });

  it('on long GSM-7 text dense with extension characters (escape pairs straddling segment edges)', () => {
    const dense = fc.oneof(
      { arbitrary: fc.constantFrom(...GSM_BASIC), weight: 3 },
      { arbitrary: fc.constantFrom(...GSM_EXTENSION), weight: 1 },
    );
    fc.assert(
      fc.property(fc.string({ unit: dense, minLength: 150, maxLength: 800, size: 'max' }), (text) =>
        expectAgreement(text),
      ),
      { numRuns: 200 },
    );
  });

  it('on long emoji-heavy text (graphemes straddling segment edges)', () => {
    const unit = fc.oneof(
      { arbitrary: gsmChar, weight: 3 },
      { arbitrary: fc.constantFrom('😀', '👍🏽', '🇫🇷', '👨‍👩‍👧', '❤️', 'e\u0301', 'ж'), weight: 1 },
    );
    fc.assert(
      fc.property(fc.string({ unit, minLength: 60, maxLength: 400, size: 'max' }), (text) => expectAgreement(text)),
      { numRuns: 200 },
    );
  });

  it('on random UCS-2 text without joining characters', () => {
    fc.assert(
      fc.property(simpleUcs2Text(0, 300), (text) => {
        expectAgreement(text);
        expect(analyzeSms(text).encoding).toBe('UCS-2');
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary Unicode text: graphemes, emoji, combining marks, astral planes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 200, size: 'max' }),
          fc.string({ unit: 'grapheme-composite', maxLength: 200, size: 'max' }),
          fc.string({ unit: 'binary', maxLength: 200, size: 'max' }),
          fc.string({
            unit: fc.constantFrom('a', 'é', 'e\u0301', '😀', '👍🏽', '🇫🇷', '👨‍👩‍👧', '\r\n', '€', 'ж'),
            maxLength: 150,
            size: 'max',
          }),
        ),
        (text) => expectAgreement(text),
      ),
      { numRuns: 400 },
    );
  });

  it('with smart encoding on text full of curly quotes and dashes', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(gsmChar, fc.constantFrom('‘', '’', '“', '”', '–', '—', '…', '½', '\u00a0')),
          maxLength: 400,
          size: 'max',
        }),
        (text) => expectAgreement(text, true),
      ),
      { numRuns: 200 },
    );
  });
});

describe('segment boundaries', () => {
  const gsmOfLength = (n: number) => fc.string({ unit: fc.constantFrom(...GSM_BASIC), minLength: n, maxLength: n });
  const ucs2OfLength = (n: number) => simpleUcs2Text(n, n).filter((s) => s.length === n);

  it.each([
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
  ])('GSM-7: %i septets make %i segment(s)', (length, segments) => {
    fc.assert(
      fc.property(gsmOfLength(length), (text) => {
        const info = analyzeSms(text);
        expect(info).toMatchObject({ encoding: 'GSM-7', units: length, segments });
        expect(calculator(text).segments).toBe(segments);
      }),
      { numRuns: 30 },
    );
  });

  it.each([
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
  ])('UCS-2: %i units make %i segment(s)', (length, segments) => {
    fc.assert(
      fc.property(ucs2OfLength(length), (text) => {
        const info = analyzeSms(text);
        expect(info).toMatchObject({ encoding: 'UCS-2', units: length, segments });
        expect(calculator(text).segments).toBe(segments);
      }),
      { numRuns: 30 },
    );
  });

  it('extension characters count twice and are never split across segments', () => {
    fc.assert(
      fc.property(gsmOfLength(152), fc.constantFrom(...GSM_EXTENSION), gsmOfLength(10), (head, ext, tail) => {
        // 152 + 2 septets cannot fit in a 153-septet part: the escape pair moves whole.
        const text = head + ext + tail;
        const info = analyzeSms(text);
        expect(info.units).toBe(164);
        expect(info.segments).toBe(2);
        expectAgreement(text);
      }),
      { numRuns: 30 },
    );
  });

  it('an escape pair that does not fit moves whole into the next part', () => {
    // 152 + 2 + 152 septets: plain division would say 2 segments, the packing needs 3.
    const text = 'a'.repeat(152) + '€' + 'a'.repeat(152);
    expect(analyzeSms(text)).toMatchObject({ units: 306, segments: 3 });
    expectAgreement(text);
  });

  it('no BMP character outside the joining set joins a neighbour in the calculator’s grapheme splitter', () => {
    // The fast paths rely on this: between two such characters there is always a boundary.
    const plain: string[] = [];
    for (let c = 0; c < 0x10000; c++) if (!mayJoinGrapheme(c)) plain.push(String.fromCharCode(c));
    expect(plain.length).toBeGreaterThan(50_000);
    for (let i = 0; i < plain.length; i += 128) {
      const batch = plain.slice(i, i + 128);
      // "a c c" per character: catches extenders and spacing marks (a c), prepended (c a) and jamo (c c).
      const text = batch.map((c) => `a${c}${c}`).join('') + 'a';
      const graphemes = splitGraphemes(text);
      expect(graphemes.length).toBe(3 * batch.length + 1);
    }
  });

  it('the fast UCS-2 path only runs when every UTF-16 unit is its own grapheme', () => {
    fc.assert(
      fc.property(simpleUcs2Text(0, 200), (text) => {
        // The calculator keeps CR LF apart too, so one unit = one grapheme here.
        expect(splitGraphemes(text)).toHaveLength(text.length);
      }),
      { numRuns: 300 },
    );
  });
});
