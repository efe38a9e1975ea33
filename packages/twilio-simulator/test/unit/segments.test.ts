import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { countSegments } from '../../src/segments';

const GSM =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXT = '\f^{}\\[~]|€';

/** The fast GSM-7 path must agree with Twilio's calculator, which it replaces for speed. */
describe('countSegments', () => {
  it('agrees with sms-segments-calculator on GSM-7 text, extension characters included', () => {
    const gsmChar = fc.constantFrom(...(GSM + EXT).split(''));
    fc.assert(
      fc.property(fc.array(gsmChar, { minLength: 1, maxLength: 500 }), (chars) => {
        const text = chars.join('');
        expect(countSegments(text, false)).toBe(new SegmentedMessage(text, 'auto', false).segmentsCount);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with it on Unicode text, with and without smart encoding', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), fc.boolean(), (text, smart) => {
        expect(countSegments(text, smart)).toBe(new SegmentedMessage(text, 'auto', smart).segmentsCount);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a'.repeat(160), 1],
    ['a'.repeat(161), 2],
    ['a'.repeat(306), 2],
    ['a'.repeat(307), 3],
    ['€'.repeat(80), 1],
    ['😀'.repeat(35), 1],
    ['😀'.repeat(36), 2],
    ['', 1],
  ])('counts %j as %i segment(s)', (text, n) => {
    expect(countSegments(text, false)).toBe(n);
  });
});
