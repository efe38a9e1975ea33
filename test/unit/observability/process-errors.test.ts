import { fatalErrorLine, unhandledRejectionReporter } from '../../../src/observability';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => lines.push(s) } };
}

const NUMBER = '+14155550123';

describe('process-level error reports (src/main.ts)', () => {
  it('reports an unhandled Error as one JSON line, number masked in message and stack, secret keys censored', () => {
    const { lines, destination } = capture();
    const err = Object.assign(new Error(`Twilio call for ${NUMBER} failed`), {
      authToken: 'tok-0123456789',
      to: NUMBER,
      config: { password: 'pw-0123456789' },
    });
    unhandledRejectionReporter(destination)(err);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toContain(NUMBER);
    expect(line).not.toContain('tok-0123456789');
    expect(line).not.toContain('pw-0123456789');
    const parsed = JSON.parse(line) as { level: number; msg: string; err: { message: string; stack: string } };
    expect(parsed.level).toBe(50);
    expect(parsed.msg).toMatch(/unhandled rejection/);
    expect(parsed.err.message).toBe('Twilio call for +1********23 failed');
    expect(parsed.err.stack).toContain('+1********23');
  });

  it('reports a rejected string or object the same way', () => {
    const { lines, destination } = capture();
    const report = unhandledRejectionReporter(destination);
    report(`no answer from ${NUMBER}`);
    report({ token: 'tok-0123456789', phoneNumber: NUMBER, body: 'secret text' });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(NUMBER);
      expect(line).not.toContain('tok-0123456789');
      expect(line).not.toContain('secret text');
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ reason: 'no answer from +1********23' });
    expect(JSON.parse(lines[1]!)).toMatchObject({
      reason: { token: '[redacted]', phoneNumber: '+1********23', body: '[body: 11 chars]' },
    });
  });

  it('prints the error that ends the process as one line, number masked', () => {
    expect(fatalErrorLine(new Error(`cannot text ${NUMBER}\nbecause`))).toBe(
      'ingress-egress: cannot text +1********23 because\n',
    );
    expect(fatalErrorLine('plain')).toBe('ingress-egress: plain\n');
  });
});
