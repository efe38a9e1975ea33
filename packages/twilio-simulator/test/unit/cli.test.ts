import { runSimulatorCommand, type TwilioSimulator } from '../../src';
import { parseSimulatorArgs } from '../../src/cli';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
  };
}

describe('ingress-egress simulator', () => {
  it('prints help', async () => {
    const o = io();
    expect(await runSimulatorCommand(['--help'], o)).toBe(0);
    expect(o.out.join('')).toContain('Usage: ingress-egress simulator');
  });

  it.each([[['--port', 'x']], [['--port']], [['--nope']], [['--port', '70000']]])(
    'refuses %j with exit code 2',
    async (argv) => {
      const o = io();
      expect(await runSimulatorCommand(argv, o)).toBe(2);
      expect(o.err.join('')).toMatch(/--port|Unknown option/);
    },
  );

  it('parses --flag value and --flag=value', () => {
    expect(parseSimulatorArgs(['--port=0', '--auth-token', 'tok', '--seed', '3'])).toMatchObject({
      port: 0,
      authToken: 'tok',
      seed: '3',
    });
  });

  it('starts, prints the base URL and the environment, answers, and stops on abort', async () => {
    const o = io();
    const controller = new AbortController();
    let sim: TwilioSimulator | undefined;
    const exit = runSimulatorCommand(
      ['--port', '0', '--auth-token', 'cli-token', '--webhook-url', 'http://127.0.0.1:1/sms'],
      {
        ...o,
        signal: controller.signal,
        onReady: (s) => {
          sim = s;
        },
      },
    );
    while (!sim) await new Promise((r) => setTimeout(r, 5));
    const text = o.out.join('');
    expect(text).toContain(`Twilio simulator listening on ${sim.baseUrl}`);
    expect(text).toContain(`export TWILIO_API_BASE_URL=${sim.baseUrl}`);
    expect(text).toContain(`export TWILIO_ACCOUNT_SID=AC${'c'.repeat(32)}`);
    expect(text).toContain('export TWILIO_AUTH_TOKEN=cli-token');
    expect(text).toContain('export TWILIO_PHONE_NUMBER=+15005550006');
    expect((await fetch(`${sim.baseUrl}/__sim/health`)).status).toBe(200);
    controller.abort();
    expect(await exit).toBe(0);
    expect(sim.state).toBe('stopped');
  });

  it('reports a port in use with exit code 1', async () => {
    const first = io();
    const controller = new AbortController();
    let sim: TwilioSimulator | undefined;
    const running = runSimulatorCommand(['--port', '0'], {
      ...first,
      signal: controller.signal,
      onReady: (s) => (sim = s),
    });
    while (!sim) await new Promise((r) => setTimeout(r, 5));
    const port = new URL(sim.baseUrl).port;
    const second = io();
    expect(await runSimulatorCommand(['--port', port], second)).toBe(1);
    expect(second.err.join('')).toContain('Could not start the simulator');
    controller.abort();
    await running;
  });
});
