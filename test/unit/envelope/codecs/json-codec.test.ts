import { EnvelopeDecodeError, JsonEnvelopeCodec, JSON_CONTENT_TYPE } from '../../../../src/envelope/codecs';
import { EVENT_TYPES } from '../../../../src/envelope';
import { sampleEnvelopes } from '../../../helpers/envelopes';

describe('JsonEnvelopeCodec', () => {
  const codec = new JsonEnvelopeCodec();
  const samples = sampleEnvelopes();

  it.each(EVENT_TYPES)('round-trips %s', async (type) => {
    const event = samples[type];
    const bytes = await codec.encode(event);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(event);
    expect(await codec.decode(bytes)).toEqual(event);
  });

  it('encodeSync gives the same bytes as encode', async () => {
    const event = samples['sms.consent.changed'];
    expect(codec.encodeSync(event).equals(await codec.encode(event))).toBe(true);
  });

  it('says application/json', () => {
    expect(codec.contentType).toBe(JSON_CONTENT_TYPE);
  });

  it('rejects bytes that are not JSON with IE_ENVELOPE_DECODE', async () => {
    const err = await codec.decode(Buffer.from([0xff, 0x00, 0x7b])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvelopeDecodeError);
    expect(err).toMatchObject({ code: 'IE_ENVELOPE_DECODE', retriable: false });
  });

  it('rejects JSON that is not a valid envelope, naming the field', async () => {
    const bad = { ...samples['sms.outbound.accepted'], data: { ...samples['sms.outbound.accepted'].data, to: '' } };
    const err = (await codec.decode(Buffer.from(JSON.stringify(bad))).catch((e: unknown) => e)) as EnvelopeDecodeError;
    expect(err).toBeInstanceOf(EnvelopeDecodeError);
    expect(err.code).toBe('IE_ENVELOPE_DECODE');
    expect(err.fields.map((f) => f.path)).toEqual(['data.to']);
    expect(err.message).toContain('data.to');
  });

  it('rejects an empty value', async () => {
    await expect(codec.decode(Buffer.alloc(0))).rejects.toMatchObject({ code: 'IE_ENVELOPE_DECODE' });
  });
});
