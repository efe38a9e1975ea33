/**
 * GSM-7 / UCS-2 detection and segment counting, in agreement with Twilio's
 * own `sms-segments-calculator`.
 *
 * The calculator is the reference (its character tables are used directly),
 * but its `SegmentedMessage` is quadratic in the message length (~0.3 ms for
 * 50 characters, ~3.5 ms for 480) because every segment re-sums its bits on
 * each push, and it splits every body into graphemes. The egress pipeline
 * counts segments for every message, so this module reproduces the same
 * packing in one linear pass and only splits graphemes when a UCS-2 body
 * holds characters that can join their neighbours. Property tests check that
 * both give the same answers (test/unit/sms/encoding.property.test.ts).
 */
import GSM_TABLE from 'sms-segments-calculator/dist/libs/UnicodeToGSM';
import SMART_ENCODING_MAP from 'sms-segments-calculator/dist/libs/SmartEncodingMap';
import { splitGraphemes } from 'sms-segments-calculator/dist/libs/textUtils';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface EncodingOptions {
  /**
   * Emulate Twilio's Smart Encoding (a Messaging Service setting, or
   * `SmartEncoded=true` on a send): curly quotes, long dashes and similar
   * characters are replaced by GSM-7 look-alikes before counting.
   */
  smartEncoding?: boolean;
}

export interface SmsEncodingInfo {
  encoding: SmsEncoding;
  /** Number of SMS segments the body is billed and delivered as (an empty body counts as 1, like the calculator). */
  segments: number;
  /** GSM-7 septets (extension characters count 2) or UCS-2 16-bit units the body needs, without headers. */
  units: number;
  /** Capacity of one segment for this encoding and segment count: 160/153 (GSM-7) or 70/67 (UCS-2). */
  unitsPerSegment: number;
  /**
   * Distinct characters (graphemes) that are not in GSM-7, in order of first
   * appearance: the reason the body was sent as UCS-2. Empty for GSM-7.
   */
  nonGsmCharacters: string[];
  /** The text that was counted: the input, or its smart-encoded form. */
  text: string;
}

export const GSM7_SINGLE_SEGMENT_UNITS = 160;
export const GSM7_MULTI_SEGMENT_UNITS = 153;
export const UCS2_SINGLE_SEGMENT_UNITS = 70;
export const UCS2_MULTI_SEGMENT_UNITS = 67;

// One SMS carries 140 octets; a concatenated part spends 6 of them on the user data header.
const SEGMENT_BITS = 1120;
const UDH_BITS = 48;

/** GSM-7 units per UTF-16 code unit: 0 = not GSM-7, 1 = basic set, 2 = extension table (escape + char). */
const GSM_UNITS = new Uint8Array(0x10000);
for (const [code, units] of Object.entries(GSM_TABLE)) GSM_UNITS[Number(code)] = units.length;

const SMART_KEYS = new RegExp(
  `[${Object.keys(SMART_ENCODING_MAP)
    .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .join('')}]`,
  'g',
);

/**
 * Characters that can form a multi-code-unit grapheme with a neighbour
 * (surrogate pairs, combining and spacing marks, joiners, Hangul jamo,
 * prepended and other grapheme-extending characters). The set is a superset
 * on purpose: a false positive only costs a slower, still exact, path.
 * Between two characters outside it there is always a grapheme boundary.
 * U+1CF2 and U+1CF3 are letters in Node's Unicode data but spacing marks in
 * the older tables of the calculator's splitter, whose answers we reproduce.
 */
const MAY_JOIN =
  /[\uD800-\uDFFF\p{M}\p{Cf}\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF\u0E33\u0EB3\u0D4E\uFF9E\uFF9F\u1CF2\u1CF3]/u;
let joinTable: Uint8Array | undefined;

/** MAY_JOIN per UTF-16 unit, built on first use (65,536 regex tests, a few ms). */
function joins(): Uint8Array {
  if (joinTable) return joinTable;
  const table = new Uint8Array(0x10000);
  for (let c = 0; c < 0x10000; c++) {
    if ((c >= 0xd800 && c <= 0xdfff) || MAY_JOIN.test(String.fromCharCode(c))) table[c] = 1;
  }
  joinTable = table;
  return table;
}

/** Replaces what Twilio's Smart Encoding would replace; returns the input itself when nothing changes. */
export function applySmartEncoding(text: string): string {
  return text.replace(SMART_KEYS, (c) => SMART_ENCODING_MAP[c] ?? c);
}

/**
 * Greedy packing exactly as the calculator does it: fill the first segment
 * to 1120 bits; on the first overflow give it a header (pushing its last
 * characters into the second segment), then fill header-carrying segments.
 * A character never straddles two segments.
 */
class SegmentPacker {
  segments = 1;
  private used = 0;

  reset(): this {
    this.segments = 1;
    this.used = 0;
    this.firstCount = 0;
    return this;
  }

  // Sizes of the characters in the first segment: at most 160 (7 bits each).
  private readonly first = new Uint16Array(SEGMENT_BITS / 7 + 1);
  private firstCount = 0;

  add(bits: number): void {
    if (SEGMENT_BITS - this.used < bits) {
      this.segments++;
      if (this.segments === 2) {
        let firstBits = this.used + UDH_BITS;
        let carried = 0;
        let i = this.firstCount;
        while (firstBits > SEGMENT_BITS && i > 0) {
          i--;
          const size = this.first[i] ?? 0;
          firstBits -= size;
          carried += size;
        }
        this.used = UDH_BITS + carried;
      } else {
        this.used = UDH_BITS;
      }
    }
    this.used += bits;
    if (this.segments === 1) this.first[this.firstCount++] = bits;
  }
}

// Distinct non-GSM characters without a Set: SEEN[c] === mark means "listed in this call".
const SEEN = new Uint32Array(0x10000);
let seenMark = 0;
function nextSeenMark(): number {
  if (++seenMark === 0xffffffff) {
    SEEN.fill(0);
    seenMark = 1;
  }
  return seenMark;
}

// One packer for every call: analyzeSms is synchronous, so it is never shared.
const PACKER = new SegmentPacker();

/** Encoding, segment count and the characters that forced UCS-2, for one message body. */
export function analyzeSms(body: string, options: EncodingOptions = {}): SmsEncodingInfo {
  const text = options.smartEncoding ? applySmartEncoding(body) : body;
  let gsmUnits = 0;
  let extension = false;
  let isGsm = true;
  for (let i = 0; i < text.length; i++) {
    const u = GSM_UNITS[text.charCodeAt(i)] ?? 0;
    if (u === 0) {
      isGsm = false;
      break;
    }
    if (u === 2) extension = true;
    gsmUnits += u;
  }

  if (isGsm) {
    // Without escape pairs every character is 7 bits and the greedy packing is plain division.
    if (gsmUnits <= GSM7_SINGLE_SEGMENT_UNITS) return result('GSM-7', 1, gsmUnits, [], text);
    if (!extension) return result('GSM-7', Math.ceil(gsmUnits / GSM7_MULTI_SEGMENT_UNITS), gsmUnits, [], text);
    const packer = PACKER.reset();
    for (let i = 0; i < text.length; i++) packer.add(7 * (GSM_UNITS[text.charCodeAt(i)] ?? 1));
    return result('GSM-7', packer.segments, gsmUnits, [], text);
  }

  const join = joins();
  const nonGsm: string[] = [];
  const seen = nextSeenMark();
  let complex = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (join[c] === 1) complex = true;
    else if (GSM_UNITS[c] === 0 && SEEN[c] !== seen) {
      SEEN[c] = seen;
      nonGsm.push(text.charAt(i));
    }
  }
  if (!complex) {
    // Every UTF-16 unit is its own 16-bit grapheme: plain division again.
    const n = text.length;
    const segments = n <= UCS2_SINGLE_SEGMENT_UNITS ? 1 : Math.ceil(n / UCS2_MULTI_SEGMENT_UNITS);
    return result('UCS-2', segments, n, nonGsm, text);
  }

  // Graphemes matter only inside runs where a joining character sits next to another character;
  // only those runs go through the calculator's (slow) grapheme splitter.
  const packer = PACKER.reset();
  const found = new Set<string>();
  const grapheme = (g: string) => {
    packer.add(16 * g.length);
    if (g.length > 1 || GSM_UNITS[g.charCodeAt(0)] === 0) found.add(g);
  };
  let i = 0;
  while (i < text.length) {
    let j = i + 1;
    while (j < text.length && (join[text.charCodeAt(j - 1)] === 1 || join[text.charCodeAt(j)] === 1)) j++;
    if (j === i + 1) grapheme(text.charAt(i));
    else for (const g of splitGraphemes(text.slice(i, j))) grapheme(g);
    i = j;
  }
  return result('UCS-2', packer.segments, text.length, [...found], text);
}

function result(
  encoding: SmsEncoding,
  segments: number,
  units: number,
  nonGsmCharacters: string[],
  text: string,
): SmsEncodingInfo {
  const unitsPerSegment =
    encoding === 'GSM-7'
      ? segments === 1
        ? GSM7_SINGLE_SEGMENT_UNITS
        : GSM7_MULTI_SEGMENT_UNITS
      : segments === 1
        ? UCS2_SINGLE_SEGMENT_UNITS
        : UCS2_MULTI_SEGMENT_UNITS;
  return { encoding, segments, units, unitsPerSegment, nonGsmCharacters, text };
}

/** Segment count only (same rules as analyzeSms). */
export function countSegments(body: string, options: EncodingOptions = {}): number {
  return analyzeSms(body, options).segments;
}

/** Whether a UTF-16 unit may join a neighbour into one grapheme (exported for the tests that prove the fast path). */
export function mayJoinGrapheme(codeUnit: number): boolean {
  return joins()[codeUnit] === 1;
}

/** True when every character of the body is in the GSM-7 basic or extension table. */
export function isGsm7(body: string): boolean {
  for (let i = 0; i < body.length; i++) if (GSM_UNITS[body.charCodeAt(i)] === 0) return false;
  return true;
}
