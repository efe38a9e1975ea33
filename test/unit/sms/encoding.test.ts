import { analyzeSms, applySmartEncoding, countSegments, isGsm7 } from '../../../src/sms/encoding';

describe('analyzeSms', () => {
  it('counts a plain GSM-7 message as one segment of 160', () => {
    expect(analyzeSms('Your code is 123456')).toEqual({
      encoding: 'GSM-7',
      segments: 1,
      units: 19,
      unitsPerSegment: 160,
      nonGsmCharacters: [],
      text: 'Your code is 123456',
    });
  });

  it('counts each extension character as two septets', () => {
    const info = analyzeSms('{[€]}^|~\\\f');
    expect(info.encoding).toBe('GSM-7');
    expect(info.units).toBe(20);
    expect(analyzeSms('€'.repeat(80)).segments).toBe(1);
    expect(analyzeSms('€'.repeat(81)).segments).toBe(2);
  });

  it('switches to UCS-2 and names the characters that forced it, once each', () => {
    const info = analyzeSms('Hi 😀 and 😀 again — ok');
    expect(info.encoding).toBe('UCS-2');
    expect(info.nonGsmCharacters).toEqual(['😀', '—']);
    expect(info.unitsPerSegment).toBe(70);
  });

  it('counts an emoji as two UTF-16 units', () => {
    expect(analyzeSms('😀'.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(analyzeSms('😀'.repeat(36))).toMatchObject({ units: 72, segments: 2, unitsPerSegment: 67 });
  });

  it('keeps a combined grapheme whole in the non-GSM list', () => {
    expect(analyzeSms('Cafe\u0301').nonGsmCharacters).toEqual(['e\u0301']);
  });

  it('with smart encoding, curly quotes and dashes become GSM-7', () => {
    const body = '“Don’t” – go…';
    expect(analyzeSms(body).encoding).toBe('UCS-2');
    const smart = analyzeSms(body, { smartEncoding: true });
    expect(smart.encoding).toBe('GSM-7');
    expect(smart.text).toBe('"Don\'t" - go...');
  });

  it('treats an empty body as one segment, like the calculator', () => {
    expect(countSegments('')).toBe(1);
  });
});

describe('helpers', () => {
  it('applySmartEncoding leaves GSM text untouched', () => {
    expect(applySmartEncoding('plain text')).toBe('plain text');
    expect(applySmartEncoding('½')).toBe('1/2');
  });

  it('isGsm7', () => {
    expect(isGsm7('Hello {world} €')).toBe(true);
    expect(isGsm7('naïve')).toBe(false);
  });
});
