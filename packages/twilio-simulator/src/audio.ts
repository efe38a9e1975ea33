/**
 * The audio the simulator serves for a recording, generated here (no files,
 * no codec library): a WAV (8 kHz, 16-bit PCM, mono or two channels, as
 * Twilio records calls) holding a quiet 440 Hz tone, and an MP3 made of
 * silent MPEG-1 Layer III frames. Both are capped at a few seconds: the
 * simulator serves audio to exercise transport, not to be listened to.
 */
const SAMPLE_RATE = 8000;
const MAX_SECS = 5;

export function wavBytes(durationSecs: number, channels: 1 | 2): Buffer {
  const secs = Math.min(MAX_SECS, Math.max(1, durationSecs));
  const frames = SAMPLE_RATE * secs;
  const dataBytes = frames * channels * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // PCM header size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(SAMPLE_RATE, 24);
  buf.writeUInt32LE(SAMPLE_RATE * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) {
    const sample = Math.round(2000 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE));
    for (let ch = 0; ch < channels; ch++) buf.writeInt16LE(sample, 44 + (i * channels + ch) * 2);
  }
  return buf;
}

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo: 417-byte frames of 1152 samples; zero side info decodes as silence. */
const MP3_FRAME_BYTES = 417;
const MP3_SAMPLES_PER_FRAME = 1152;

export function mp3Bytes(durationSecs: number): Buffer {
  const secs = Math.min(MAX_SECS, Math.max(1, durationSecs));
  const frames = Math.ceil((secs * 44_100) / MP3_SAMPLES_PER_FRAME);
  const buf = Buffer.alloc(frames * MP3_FRAME_BYTES);
  for (let f = 0; f < frames; f++) {
    const at = f * MP3_FRAME_BYTES;
    buf[at] = 0xff;
    buf[at + 1] = 0xfb; // MPEG-1, Layer III, no CRC
    buf[at + 2] = 0x90; // 128 kbit/s, 44.1 kHz, no padding
    buf[at + 3] = 0x00; // stereo
  }
  return buf;
}
