import { SmsValidator, type OutboundSmsInput, type SmsRejectionCode } from '../../../src/sms/validate';

const v = new SmsValidator({ maxSegments: 3 });
const from = '+14155550100';
const mg = 'MG' + '0'.repeat(32);

describe('SmsValidator.validate', () => {
  it('accepts a normal SMS and reports its encoding', () => {
    const r = v.validate({ from, body: 'Hello there' });
    expect(r).toMatchObject({ ok: true, body: 'Hello there', media: [], encoding: { encoding: 'GSM-7', segments: 1 } });
  });

  it('accepts a messaging service instead of a from number, and both together', () => {
    expect(v.validate({ messagingServiceSid: mg, body: 'x' }).ok).toBe(true);
    expect(v.validate({ from, messagingServiceSid: mg, body: 'x' }).ok).toBe(true);
  });

  it('accepts short codes and alphanumeric sender IDs as from', () => {
    expect(v.validate({ from: '12345', body: 'x' }).ok).toBe(true);
    expect(v.validate({ from: 'ACME Corp', body: 'x' }).ok).toBe(true);
  });

  it.each([
    ['SMS_SENDER_MISSING', { body: 'x' }],
    ['SMS_SENDER_MISSING', { from: ' ', body: 'x' }],
    ['SMS_SENDER_INVALID', { from: '415-555-0100', body: 'x' }],
    ['SMS_SENDER_INVALID', { from: 'TwelveLetters', body: 'x' }],
    ['SMS_SENDER_INVALID', { from: '12', body: 'x' }],
    ['SMS_MESSAGING_SERVICE_INVALID', { messagingServiceSid: 'MG123', body: 'x' }],
    ['SMS_BODY_EMPTY', { from }],
    ['SMS_BODY_EMPTY', { from, body: '   ' }],
    ['SMS_BODY_TOO_LONG', { from, body: 'a'.repeat(1601) }],
    ['SMS_TOO_MANY_SEGMENTS', { from, body: 'a'.repeat(460) }],
    ['SMS_MEDIA_TOO_MANY', { from, body: 'x', media: Array.from({ length: 11 }, (_, i) => `https://e.x/${i}.png`) }],
    ['SMS_MEDIA_URL_INVALID', { from, media: ['not a url'] }],
    ['SMS_MEDIA_URL_NOT_HTTPS', { from, media: ['http://e.x/a.png'] }],
    ['SMS_MEDIA_TYPE_NOT_ALLOWED', { from, media: ['https://e.x/a.exe'] }],
    [
      'SMS_MEDIA_TYPE_NOT_ALLOWED',
      { from, media: [{ url: 'https://e.x/a', contentType: 'text/html; charset=utf-8' }] },
    ],
  ] as [SmsRejectionCode, OutboundSmsInput][])('rejects with %s (case %#)', (code, input) => {
    const r = v.validate(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason.length).toBeGreaterThan(10);
      expect(r.rejections[0]!.code).toBe(code);
    }
  });

  it('reports every rejection, sender first', () => {
    const r = v.validate({ body: '', media: ['http://e.x/a.png'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejections.map((x) => x.code)).toEqual(['SMS_SENDER_MISSING', 'SMS_MEDIA_URL_NOT_HTTPS']);
  });

  it('names the characters that forced UCS-2 when there are too many segments', () => {
    const r = v.validate({ from, body: 'Olá “amigo” '.repeat(20) });
    expect(r).toMatchObject({ ok: false, code: 'SMS_TOO_MANY_SEGMENTS' });
    if (!r.ok) expect(r.reason).toBe('the body needs 4 segments (UCS-2 because of "á", "“", "”"); the limit is 3');
  });

  it('counts segments after smart encoding when asked', () => {
    const body = '“quoted” '.repeat(30); // 270 chars: 5 UCS-2 segments, 2 GSM-7 segments
    expect(v.validate({ from, body }).ok).toBe(false);
    expect(v.validate({ from, body, smartEncoded: true }).ok).toBe(true);
    expect(new SmsValidator({ maxSegments: 3, smartEncoding: true }).validate({ from, body }).ok).toBe(true);
  });

  it('does not count segments for an MMS body, but keeps the length limit', () => {
    expect(v.validate({ from, body: 'a'.repeat(1000), media: ['https://e.x/a.jpg'] }).ok).toBe(true);
    expect(v.validate({ from, body: 'a'.repeat(1601), media: ['https://e.x/a.jpg'] })).toMatchObject({
      ok: false,
      code: 'SMS_BODY_TOO_LONG',
    });
  });

  it('allows media with unknown extensions and honours wildcard type lists', () => {
    expect(v.validate({ from, media: ['https://e.x/media/123'] }).ok).toBe(true);
    const images = new SmsValidator({ maxSegments: 1, allowedMediaTypes: ['image/*'] });
    expect(images.validate({ from, media: [{ url: 'https://e.x/a', contentType: 'IMAGE/HEIC' }] }).ok).toBe(true);
    expect(images.validate({ from, media: ['https://e.x/a.pdf'] }).ok).toBe(false);
    const any = new SmsValidator({ maxSegments: 1, allowedMediaTypes: ['*/*'] });
    expect(any.validate({ from, media: ['https://e.x/a.exe'] }).ok).toBe(true);
  });

  it('never puts the body or a number in a reason', () => {
    const r = v.validate({ from: '+1415', body: 'secret '.repeat(100) });
    expect(r.ok).toBe(false);
    if (!r.ok) for (const x of r.rejections) expect(x.reason).not.toMatch(/secret|\+1415/);
  });

  it('refuses a nonsensical maxSegments', () => {
    expect(() => new SmsValidator({ maxSegments: 0 })).toThrow(RangeError);
  });
});
