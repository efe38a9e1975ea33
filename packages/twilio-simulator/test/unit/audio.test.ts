import { mp3Bytes, wavBytes } from '../../src/audio';

describe('generated recording audio', () => {
  it('is a PCM WAV of the asked channels, capped at 5 s', () => {
    const mono = wavBytes(2, 1);
    expect(mono.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(mono.readUInt32LE(4)).toBe(mono.length - 8);
    expect(mono.readUInt16LE(20)).toBe(1);
    expect(mono.readUInt16LE(22)).toBe(1);
    expect(mono.readUInt32LE(40)).toBe(8000 * 2 * 2);
    const dual = wavBytes(600, 2);
    expect(dual.readUInt16LE(22)).toBe(2);
    expect(dual.readUInt32LE(40)).toBe(8000 * 5 * 2 * 2);
    expect(mono.readInt16LE(44 + 2 * 10)).not.toBe(0);
  });

  it('is MP3 frames with valid MPEG-1 Layer III headers', () => {
    const mp3 = mp3Bytes(1);
    expect(mp3.length % 417).toBe(0);
    for (let at = 0; at < mp3.length; at += 417)
      expect([mp3[at], mp3[at + 1], mp3[at + 2]]).toEqual([0xff, 0xfb, 0x90]);
  });
});
