import { runCli } from '../../../src/cli/cli';
import type { CliIo } from '../../../src/cli/io';

function io(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const value: CliIo = {
    argv,
    env,
    cwd: '/nonexistent-dir-for-tests',
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    waitForSignal: () => new Promise(() => undefined),
  };
  return { value, out: () => out, err: () => err };
}

describe('ingress-egress CLI', () => {
  it('prints help with every command', async () => {
    const t = io(['--help']);
    expect(await runCli(t.value)).toBe(0);
    expect(t.out()).toMatch(/start/);
    expect(t.out()).toMatch(/config/);
  });

  it('refuses an unknown command with one line and exit code 2', async () => {
    const t = io(['frobnicate']);
    expect(await runCli(t.value)).toBe(2);
    expect(t.err().trim().split('\n')).toHaveLength(1);
  });

  it('config check names bad variables and never prints secrets', async () => {
    const t = io(['config', 'check'], { TWILIO_ENABLED: 'true', TWILIO_AUTH_TOKEN: 'sekrit-value', HTTP_PORT: 'x' });
    expect(await runCli(t.value)).toBe(1);
    expect(t.err()).toMatch(/KAFKA_BROKERS/);
    expect(t.err()).toMatch(/HTTP_PORT/);
    expect(t.err()).toMatch(/TWILIO_ACCOUNT_SID/);
    expect(t.err() + t.out()).not.toMatch(/sekrit-value/);
  });

  it('config check prints the effective configuration with secrets masked', async () => {
    const t = io(['config', 'check'], {
      KAFKA_BROKERS: 'k:9092',
      TWILIO_ENABLED: 'false',
      TWILIO_AUTH_TOKEN: 'sekrit-value',
    });
    expect(await runCli(t.value)).toBe(0);
    expect(t.out()).toMatch(/TWILIO_AUTH_TOKEN\s+\*{8}/);
    expect(t.out()).toMatch(/HTTP_PORT\s+4000/);
    expect(t.out()).not.toMatch(/sekrit-value/);
  });

  it('reports an invalid start configuration as one line', async () => {
    const t = io(['start'], { HTTP_PORT: 'nope' });
    expect(await runCli(t.value)).toBe(1);
    expect(t.err()).toMatch(/^ingress-egress start: Invalid configuration: .*HTTP_PORT.*\[IE_CONFIG_INVALID\]\n$/);
  });

  it('rejects unknown options with exit code 2', async () => {
    const t = io(['config', 'check', '--bogus']);
    expect(await runCli(t.value)).toBe(2);
  });
});
