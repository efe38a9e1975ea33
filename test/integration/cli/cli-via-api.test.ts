import { freePort } from '@ingress-egress/sandbox';
import { runCli } from '../../../src/cli/cli';
import '../../../src/cli/commands';
import { API_TOKEN_ENV } from '../../../src/cli/api-client';
import { buildEgressRequest } from '../../../src/cli/egress-request';
import type { CliIo } from '../../../src/cli/io';
import { DlqWriter } from '../../../src/twilio/egress';
import { ACCOUNT, customer, startEgressEnv, waitFor } from '../egress/egress-env';

jest.setTimeout(120_000);

const TOKEN = 'c'.repeat(40);

function cli(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const io: CliIo = {
    argv,
    env,
    cwd: '/nonexistent',
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    waitForSignal: () => new Promise(() => undefined),
  };
  return runCli(io).then((code) => ({ code, out, err }));
}

describe('the CLI through the HTTP API (--api): send, messages, dlq', () => {
  it('sends, looks messages up and lists/replays the DLQ through a running service', async () => {
    const env = await startEgressEnv();
    const port = await freePort();
    const server = env.service({ HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', API_TOKENS: `ops:admin:${TOKEN}` });
    await server.start();
    const api = await server.listen();
    const tokenEnv = { [API_TOKEN_ENV]: TOKEN };
    const to = customer(31);

    // send: POST /api/sms with an Idempotency-Key, waiting for the outcome. No Kafka settings needed.
    const args = ['send', '--api', api, '--to', to, '--body', 'hello via the API', '--idempotency-key', 'cli-1'];
    const sent = await cli([...args, '--wait', '8000'], tokenEnv);
    expect(sent).toMatchObject({ code: 0, err: '' });
    const answer = JSON.parse(sent.out) as { requestId: string; outcome: { type: string; messageSid: string } };
    expect(answer.outcome).toMatchObject({ type: 'accepted', messageSid: expect.stringMatching(/^SM/) });
    // The same key again: the same request, no second SMS.
    const again = await cli(args, tokenEnv);
    expect(JSON.parse(again.out)).toEqual({ requestId: answer.requestId });
    await waitFor(() => env.sim.inspect.sentTo(to).length === 1, 10_000, 'the SMS');

    // messages get / list: GET /api/messages/{sid}, GET /api/messages (the token as a flag this time).
    const got = await cli(['messages', 'get', answer.outcome.messageSid, '--api', api, '--token', TOKEN]);
    expect(got).toMatchObject({ code: 0, err: '' });
    expect(got.out).toContain(answer.outcome.messageSid);
    expect(got.out).not.toContain(to.slice(2));
    const listed = await cli(['messages', 'list', '--to', to, '--json', '--show-numbers', '--api', api], tokenEnv);
    expect(JSON.parse(listed.out)).toEqual([
      expect.objectContaining({ sid: answer.outcome.messageSid, to, body: 'hello via the API' }),
    ]);

    // dlq list / replay: GET /api/dlq, POST /api/dlq/replay.
    const failed = buildEgressRequest({ accountSid: ACCOUNT, to: customer(32), body: 'try me again' });
    await new DlqWriter(env.producer, env.topics.egressDlq).writeEvent(
      failed,
      { code: 'TWILIO_PERMANENT', reason: 'Twilio said no', stage: 'send', attempts: 1, twilioErrorCode: 21211 },
      undefined,
    );
    const list = await cli(['dlq', 'list', '--api', api], tokenEnv);
    expect(list).toMatchObject({ code: 0, err: '' });
    expect(list.out).toContain(`1 record(s) in ${env.topics.egressDlq}`);
    expect(list.out).toContain(`request=${failed.id} TWILIO_PERMANENT twilio=21211 at send: Twilio said no`);
    const dry = await cli(['dlq', 'replay', '--dry-run', '--api', api], tokenEnv);
    expect(dry.out).toContain('would replay 1 record(s)');
    const egressBefore = await env.count(env.topics.egress);
    const replay = await cli(['dlq', 'replay', '--request', failed.id, '--api', api], tokenEnv);
    expect(replay).toMatchObject({ code: 0 });
    expect(replay.out).toContain('replayed 1 record(s)');
    expect(await env.count(env.topics.egress)).toBe(egressBefore + 1);
    // Replayed, the request is sent this time.
    await waitFor(() => env.sim.inspect.sentTo(customer(32)).length === 1, 15_000, 'the replayed SMS');

    // Refusals are one readable line and a non-zero exit code.
    const wrong = await cli(['dlq', 'list', '--api', api, '--token', 'x'.repeat(40)]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/the API answered 401/);
    expect(wrong.err).not.toContain('x'.repeat(40));
    const noToken = await cli(['messages', 'list', '--api', api]);
    expect(noToken.code).toBe(2);
    expect(noToken.err).toContain(API_TOKEN_ENV);
    const bad = await cli(['send', '--api', api, '--to', to, '--body', 'x', '--priority', 'now'], tokenEnv);
    expect(bad.code).toBe(2);
  });
});
