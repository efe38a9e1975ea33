import http from 'node:http';
import { ACCOUNT, TOKEN, basic, request, startSim } from './helpers';
import { VoiceApp } from './voice-app';

/** Recordings: metadata as Twilio's two resources, media bytes as WAV and MP3, Basic auth. */
describe('Recordings REST API', () => {
  const app = new VoiceApp(TOKEN);
  let appUrl: string;
  beforeAll(async () => {
    appUrl = await app.start();
  });
  afterAll(() => app.stop());

  async function voicemail() {
    const { sim } = await startSim();
    app.on('/voice', '<Response><Record action="/after" maxLength="60"/></Response>');
    app.on('/after', '<Response><Hangup/></Response>');
    const r = await sim.voice.call({
      from: '+14155550100',
      to: '+15005550006',
      webhookUrl: `${appUrl}/voice`,
      voicemail: { durationSecs: 3 },
    });
    return { sim, callSid: r.callSid, sid: r.recordingSids[0] ?? '' };
  }

  function media(
    base: string,
    path: string,
    auth: string | null,
  ): Promise<{ status: number; type: string | undefined; bytes: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${base}${path}`, {
        agent: false,
        headers: auth === null ? {} : { authorization: auth },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], bytes: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the recording resource, and the call’s recordings list', async () => {
    const { sim, callSid, sid } = await voicemail();
    const one = await request(sim.baseUrl, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}.json`);
    expect(one.body).toMatchObject({
      sid,
      call_sid: callSid,
      status: 'completed',
      duration: '3',
      channels: 1,
      source: 'RecordVerb',
    });
    expect(one.body.media_url).toBe(`${sim.baseUrl}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}`);
    const list = await request(sim.baseUrl, 'GET', `/2010-04-01/Accounts/${ACCOUNT}/Calls/${callSid}/Recordings.json`);
    expect((list.body.recordings as { sid: string; track: string }[]).map((r) => [r.sid, r.track])).toEqual([
      [sid, 'both'],
    ]);
    const account = await request(
      sim.baseUrl,
      'GET',
      `/2010-04-01/Accounts/${ACCOUNT}/Recordings.json?CallSid=${callSid}`,
    );
    expect((account.body.recordings as unknown[]).length).toBe(1);
    const unknown = await request(
      sim.baseUrl,
      'GET',
      `/2010-04-01/Accounts/${ACCOUNT}/Calls/CA${'0'.repeat(32)}/Recordings.json`,
    );
    expect(unknown.status).toBe(404);
  });

  it('serves WAV bytes without extension and for .wav, MP3 for .mp3, and needs Basic auth for both', async () => {
    const { sim, sid } = await voicemail();
    const path = `/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}`;
    for (const p of [path, `${path}.wav`]) {
      const wav = await media(sim.baseUrl, p, basic());
      expect(wav.status).toBe(200);
      expect(wav.type).toBe('audio/x-wav');
      expect(wav.bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
      expect(wav.bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
      expect(wav.bytes.readUInt32LE(24)).toBe(8000);
      expect(wav.bytes.length).toBe(44 + 8000 * 3 * 2);
    }
    const mp3 = await media(sim.baseUrl, `${path}.mp3`, basic());
    expect(mp3.type).toBe('audio/mpeg');
    expect([mp3.bytes[0], mp3.bytes[1]]).toEqual([0xff, 0xfb]);
    expect((await media(sim.baseUrl, `${path}.wav`, null)).status).toBe(401);
    expect((await media(sim.baseUrl, `${path}.mp3`, basic(ACCOUNT, 'nope'))).status).toBe(401);
    expect(
      (await media(sim.baseUrl, `/2010-04-01/Accounts/${ACCOUNT}/Recordings/RE${'0'.repeat(32)}.wav`, basic())).status,
    ).toBe(404);
  });

  it('records a created call with Record=true (OutboundAPI) and reports it to RecordingStatusCallback', async () => {
    const { sim } = await startSim();
    app.requests.length = 0;
    const res = await request(sim.baseUrl, 'POST', `/2010-04-01/Accounts/${ACCOUNT}/Calls.json`, {
      To: '+14155550123',
      From: '+15005550006',
      Twiml: '<Response><Say>one two three four five</Say></Response>',
      Record: 'true',
      RecordingStatusCallback: `${appUrl}/rec`,
    });
    await sim.idle();
    const [rec] = app.at('/rec');
    expect(rec?.params).toMatchObject({
      CallSid: res.body.sid,
      RecordingSource: 'OutboundAPI',
      RecordingStatus: 'completed',
      RecordingDuration: '2',
    });
    expect(rec?.signed).toBe(true);
  });
});
