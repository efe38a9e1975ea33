import { decodeFrame, encodeFrame, TwilsockFrameError } from '../../../src/conversations/twilsock-frame';

describe('twilsock frames', () => {
  it('round-trips a header and a JSON payload, sizes in bytes (non-ASCII body)', () => {
    const frame = encodeFrame({ method: 'reply', id: 'TM1', status: { code: 200 } }, { text: 'héllo ✓' });
    const text = frame.toString('utf8');
    const header = text.split('\r\n')[1]!;
    expect(text.startsWith(`TWILSOCK V3.0 ${Buffer.byteLength(header)}\r\n`)).toBe(true);
    const decoded = decodeFrame(frame);
    expect(decoded.header).toMatchObject({ method: 'reply', id: 'TM1', payload_type: 'application/json' });
    expect(decoded.header.payload_size).toBe(Buffer.byteLength(JSON.stringify({ text: 'héllo ✓' })));
    expect(decoded.payload).toEqual({ text: 'héllo ✓' });
  });

  it('decodes what the SDK sends (no payload) and refuses other protocols', () => {
    const header = JSON.stringify({ id: 'TMx', method: 'init', token: 'jwt', payload_size: 0 });
    const sdkFrame = Buffer.from(`TWILSOCK V3.0 ${header.length}\r\n${header}\r\n`);
    expect(decodeFrame(sdkFrame)).toEqual({ header: JSON.parse(header), payload: undefined });
    expect(() => decodeFrame(Buffer.from('HTTP/1.1 200\r\n{}'))).toThrow(TwilsockFrameError);
  });

  it('keeps a text payload as text', () => {
    const f = decodeFrame(encodeFrame({ method: 'message', id: 'a', payload_type: 'text/plain' }, 'plain'));
    expect(f.payload).toBe('plain');
  });
});
