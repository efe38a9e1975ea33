import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock, TwilioSimulator, loadRecording, type Recording } from '../../src';
import { ACCOUNT, FROM, MESSAGES, TOKEN, create, request, startSim } from './helpers';
import { WebhookReceiver } from './webhook-receiver';

/** A scripted session: the same requests, in order, against a simulator. */
async function session(base: string, cb: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const a = await create(base, { To: '+15550300000', From: FROM, Body: 'one', StatusCallback: cb });
  out.push(a.body);
  out.push((await create(base, { To: 'nope', From: FROM, Body: 'bad' })).body);
  out.push(
    (await create(base, { To: '+15550300001', From: FROM, MediaUrl: ['https://x/a.png', 'https://x/b.png'] })).body,
  );
  out.push((await request(base, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Messages/${String(a.body.sid)}.json`)).body);
  out.push((await request(base, 'GET', `${MESSAGES}?PageSize=1`)).body);
  out.push((await request(base, 'GET', MESSAGES, undefined, { auth: 'Basic bad' })).body);
  return out;
}

describe('record and replay', () => {
  const receiver = new WebhookReceiver();
  let cb: string;
  beforeAll(async () => {
    cb = `${await receiver.start()}/status`;
  });
  afterAll(() => receiver.stop());

  async function recordOnce(): Promise<{ answers: unknown[]; recording: Recording }> {
    const { sim } = await startSim({ seed: 'rec', record: true, clock: new ManualClock(Date.UTC(2024, 1, 1)) });
    const answers = await session(sim.baseUrl, cb);
    await sim.settle();
    return { answers, recording: sim.recording() };
  }

  it('records every REST exchange and webhook as {interactions: [{request, response, timestamp}]}', async () => {
    const { recording } = await recordOnce();
    const rest = recording.interactions.filter((i) => i.kind === 'rest');
    const hooks = recording.interactions.filter((i) => i.kind === 'webhook');
    expect(rest).toHaveLength(6);
    expect(rest[0]).toMatchObject({
      request: { method: 'POST', path: MESSAGES, username: ACCOUNT, form: { To: '+15550300000', Body: 'one' } },
      response: { status: 201 },
      timestamp: '2024-02-01T00:00:00.000Z',
    });
    expect(rest[2]?.request.form?.MediaUrl).toEqual(['https://x/a.png', 'https://x/b.png']);
    expect(rest[5]?.response.status).toBe(401);
    expect(hooks.map((h) => h.request.form?.MessageStatus)).toEqual(['sending', 'sent', 'delivered']);
    expect(hooks[0]?.response).toMatchObject({ status: 200, attempts: [{ status: 200, error: null }] });
    // Secrets never reach a recording.
    expect(JSON.stringify(recording)).not.toContain(TOKEN);
  });

  it('is deterministic: the same seed, clock and requests record the same interactions', async () => {
    const a = await recordOnce();
    const b = await recordOnce();
    expect(b.answers).toEqual(a.answers);
    const strip = (r: Recording) => r.interactions.filter((i) => i.kind === 'rest');
    expect(strip(b.recording)).toEqual(strip(a.recording));
  });

  it('replays recorded answers byte for byte, in order, and reports misses', async () => {
    const { answers, recording } = await recordOnce();
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-replay-'));
    const file = path.join(dir, 'recording.json');
    const { sim: recorder } = await startSim({ record: { path: file } });
    await create(recorder.baseUrl, { To: '+15550300009', From: FROM, Body: 'saved' });
    await recorder.stop();
    expect(loadRecording(file).interactions).toHaveLength(1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('interactions');

    const replayer = new TwilioSimulator({ accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }], replay: recording });
    await replayer.start();
    try {
      expect(await session(replayer.baseUrl, cb)).toEqual(answers);
      expect(replayer.inspect.sent()).toHaveLength(0);
      const miss = await create(replayer.baseUrl, { To: '+15550300000', From: FROM, Body: 'one', StatusCallback: cb });
      expect(miss.status).toBe(500);
      expect(replayer.inspect.replay()).toEqual({
        served: 6,
        remaining: 0,
        misses: [{ method: 'POST', path: MESSAGES }],
      });
    } finally {
      await replayer.stop();
    }
  });

  it('rejects something that is not a recording', () => {
    expect(() => loadRecording({} as Recording)).toThrow(/interactions/);
  });
});
