import { Writable } from 'node:stream';
import { createLogger, redactPhone } from '../../../src/observability';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('logger redaction', () => {
  it('never writes secrets, full phone numbers or bodies', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        authToken: 'tok-123456',
        req: { headers: { authorization: 'Basic QUM6c2VjcmV0', 'x-twilio-signature': 'sig' } },
        to: '+14155550123',
        data: { from: '+447700900123', body: 'my secret message' },
        TWILIO_API_KEY_SECRET: 'apisecret',
      },
      'sending to +14155550199',
    );
    const out = lines.join('');
    for (const leak of [
      'tok-123456',
      'QUM6c2VjcmV0',
      'apisecret',
      '4155550123',
      '7700900123',
      'my secret message',
      '4155550199',
    ]) {
      expect(out).not.toContain(leak);
    }
    expect(out).toContain('+1********23');
    expect(out).toContain('+44********23');
    expect(out).toContain('[body: 17 chars]');
  });

  it('redacts phone numbers inside error messages', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('failed for +14155550123') }, 'boom');
    expect(lines.join('')).not.toContain('4155550123');
  });
});

describe('logger fields', () => {
  it('keeps one line’s fields off the next (outside a span)', () => {
    const { logger, lines } = capture();
    logger.info({ requestId: 'r-1' }, 'first');
    logger.info('second');
    expect(JSON.parse(lines[0]!)).toMatchObject({ requestId: 'r-1', msg: 'first' });
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('requestId');
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('trace_id');
  });
});

describe('redactPhone', () => {
  it('keeps the country code and the last two digits', () => {
    expect(redactPhone('+14155550123')).toBe('+1********23');
    expect(redactPhone('+33612345678')).toBe('+33*******78');
  });
  it('handles short or odd input', () => {
    expect(redactPhone('12')).toBe('***');
    expect(redactPhone('55512345')).toBe('******45');
  });
});
