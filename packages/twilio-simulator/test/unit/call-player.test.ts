import { ACCOUNT, TOKEN, request, startSim } from './helpers';
import { VoiceApp } from './voice-app';

/** Incoming calls played out from the TwiML a voice application answers. */
describe('incoming calls', () => {
  const app = new VoiceApp(TOKEN);
  let base: string;
  const NUMBER = '+15005550006';
  const CALLER = '+14155550100';
  beforeAll(async () => {
    base = await app.start();
  });
  afterAll(() => app.stop());
  beforeEach(() => app.reset());

  const forward = (action = '/dial?route=desk') =>
    `<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="20" action="${action.replace(/&/g, '&amp;')}" method="POST"><Number>+14155550199</Number></Dial></Response>`;
  const voicemail = `<Response><Say>Please leave a message.</Say><Record maxLength="120" action="/voice?after=record" recordingStatusCallback="/recording" transcribe="true" transcribeCallback="/transcription"/><Hangup/></Response>`;

  it('posts a signed voice webhook with the call parameters, and runs Say/Hangup', async () => {
    const { sim } = await startSim();
    app.on('/voice', '<Response><Say>Hello there</Say><Hangup/></Response>');
    const r = await sim.voice.call({
      from: CALLER,
      to: NUMBER,
      webhookUrl: `${base}/voice`,
      statusCallback: `${base}/status`,
      forwardedFrom: '+14155550111',
      stirVerstat: 'TN-Validation-Passed-A',
      geo: { FromCity: 'SAN FRANCISCO', FromCountry: 'US' },
    });
    expect(r).toMatchObject({ status: 'completed', verbs: ['Say', 'Hangup'], error: null });
    const [hook] = app.at('/voice');
    expect(hook?.signed).toBe(true);
    expect(hook?.params).toMatchObject({
      AccountSid: ACCOUNT,
      CallSid: r.callSid,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: CALLER,
      To: NUMBER,
      Caller: CALLER,
      Called: NUMBER,
      ForwardedFrom: '+14155550111',
      StirVerstat: 'TN-Validation-Passed-A',
      FromCity: 'SAN FRANCISCO',
      ApiVersion: '2010-04-01',
    });
    await sim.idle();
    const statuses = app.at('/status').map((s) => [s.params.CallStatus, s.params.SequenceNumber, s.signed]);
    expect(statuses).toEqual([
      ['ringing', '0', true],
      ['in-progress', '1', true],
      ['completed', '2', true],
    ]);
    expect(app.at('/status')[2]?.params.CallDuration).toBe('1');
  });

  it('a forward nobody answers: the Dial action gets DialCallStatus=no-answer, then voicemail is recorded and transcribed', async () => {
    const { sim } = await startSim();
    app.on('/voice', forward());
    app.on('/dial', voicemail);
    app.on('/voice?after=record', '<Response><Hangup/></Response>');
    const r = await sim.voice.call({
      from: CALLER,
      to: NUMBER,
      webhookUrl: `${base}/voice`,
      dial: 'no-answer',
      voicemail: { durationSecs: 7, transcript: 'Call me back' },
    });
    expect(r).toMatchObject({ status: 'completed', dialCallStatus: 'no-answer', error: null });
    expect(r.verbs).toEqual(['Dial', 'Say', 'Record', 'Hangup']);
    const [dial] = app.at('/dial');
    expect(dial?.signed).toBe(true);
    expect(dial?.path).toBe('/dial?route=desk');
    expect(dial?.params).toMatchObject({ CallSid: r.callSid, DialCallStatus: 'no-answer', DialBridged: 'false' });
    expect(dial?.params.DialCallSid).toMatch(/^CA[0-9a-f]{32}$/);
    const [rec] = app.at('/recording');
    expect(rec?.signed).toBe(true);
    expect(rec?.params).toMatchObject({
      CallSid: r.callSid,
      RecordingStatus: 'completed',
      RecordingDuration: '7',
      RecordingChannels: '1',
      RecordingSource: 'RecordVerb',
    });
    expect(rec?.params.RecordingSid).toBe(r.recordingSids[0]);
    // Twilio's media URL: no user name, no password.
    const mediaUrl = new URL(rec?.params.RecordingUrl ?? '');
    expect(mediaUrl.username + mediaUrl.password).toBe('');
    expect(mediaUrl.pathname).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Recordings/${r.recordingSids[0]}`);
    const [tr] = app.at('/transcription');
    expect(tr?.params).toMatchObject({ TranscriptionText: 'Call me back', TranscriptionStatus: 'completed' });
    expect(tr?.params.TranscriptionSid).toMatch(/^TR[0-9a-f]{32}$/);
    const [after] = app.at('/voice').filter((x) => x.path.includes('after=record'));
    expect(after?.params).toMatchObject({ RecordingSid: r.recordingSids[0], RecordingDuration: '7' });
    expect(sim.voice.recordings(r.callSid)).toEqual([
      expect.objectContaining({ sid: r.recordingSids[0], source: 'RecordVerb', durationSecs: 7, status: 'completed' }),
    ]);
    const child = sim.voice.calls({ direction: 'outbound-dial' })[0];
    expect(child).toMatchObject({ parentCallSid: r.callSid, status: 'no-answer', to: '+14155550199' });
  });

  it('a forward answered and recorded dual: DialCallStatus=completed and a two-channel DialVerb recording', async () => {
    const { sim } = await startSim();
    app.on(
      '/voice',
      `<Response><Dial action="/dial" record="record-from-answer-dual" recordingStatusCallback="/recording"><Number>+14155550199</Number></Dial></Response>`,
    );
    app.on('/dial', '<Response><Hangup/></Response>');
    const r = await sim.voice.call({
      from: CALLER,
      to: NUMBER,
      webhookUrl: `${base}/voice`,
      dial: 'answered',
      talkSecs: 12,
    });
    expect(r.dialCallStatus).toBe('completed');
    expect(app.at('/dial')[0]?.params).toMatchObject({
      DialCallStatus: 'completed',
      DialCallDuration: '12',
      DialBridged: 'true',
    });
    expect(app.at('/recording')[0]?.params).toMatchObject({
      RecordingChannels: '2',
      RecordingSource: 'DialVerb',
      RecordingDuration: '12',
    });
  });

  it('Reject busy ends the call busy without answering it', async () => {
    const { sim } = await startSim();
    app.on('/voice', '<Response><Reject reason="busy"/></Response>');
    const r = await sim.voice.call({
      from: CALLER,
      to: NUMBER,
      webhookUrl: `${base}/voice`,
      statusCallback: `${base}/status`,
    });
    expect(r.status).toBe('busy');
    await sim.idle();
    expect(app.at('/status').map((s) => s.params.CallStatus)).toEqual(['ringing', 'busy']);
    expect(sim.voice.callView(r.callSid)?.startTime).toBeNull();
  });

  it('a caller who hangs up before the beep leaves no recording', async () => {
    const { sim } = await startSim();
    app.on('/voice', voicemail);
    const r = await sim.voice.call({ from: CALLER, to: NUMBER, webhookUrl: `${base}/voice`, voicemail: false });
    expect(r).toMatchObject({ status: 'completed', recordingSids: [] });
    expect(app.at('/recording')).toHaveLength(0);
  });

  it('a webhook that fails or answers something that is not TwiML fails the call', async () => {
    const { sim } = await startSim();
    app.on('/voice', 503);
    const r1 = await sim.voice.call({ from: CALLER, to: NUMBER, webhookUrl: `${base}/voice` });
    expect(r1.status).toBe('failed');
    expect(r1.error).toContain('503');
    app.on('/voice', 'not xml <');
    const r2 = await sim.voice.call({ from: CALLER, to: NUMBER, webhookUrl: `${base}/voice` });
    expect(r2).toMatchObject({ status: 'failed', error: expect.stringContaining('TwiML') });
  });

  it('uses the number’s voiceUrl and voiceStatusCallback, and the control API rings it', async () => {
    const { sim } = await startSim({
      phoneNumbers: [{ phoneNumber: NUMBER, voiceUrl: `${base}/voice`, voiceStatusCallback: `${base}/status` }],
    });
    app.on('/voice', '<Response><Say>Hi</Say></Response>');
    const res = await request(sim.baseUrl, 'POST', '/__sim/calls/incoming', undefined, { auth: null });
    expect(res.status).toBe(400);
    const ok = await fetch(`${sim.baseUrl}/__sim/calls/incoming`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: CALLER, to: NUMBER }),
    });
    const body = (await ok.json()) as { callSid: string; status: string };
    expect(body.status).toBe('completed');
    await sim.idle();
    expect(app.at('/status').map((s) => s.params.CallStatus)).toEqual(['ringing', 'in-progress', 'completed']);
    const view = await (await fetch(`${sim.baseUrl}/__sim/calls/${body.callSid}`)).json();
    expect(view).toMatchObject({ sid: body.callSid, direction: 'inbound', verbs: ['Say'] });
  });

  it('duplicates and reorders status callbacks on request, SequenceNumber telling the order', async () => {
    const { sim } = await startSim({ voice: { callbacks: { duplicateProbability: 1 } } });
    app.on('/voice', '<Response><Say>Hi</Say></Response>');
    await sim.voice.call({ from: CALLER, to: NUMBER, webhookUrl: `${base}/voice`, statusCallback: `${base}/status` });
    await sim.idle();
    expect(app.at('/status').map((s) => s.params.SequenceNumber)).toEqual(['0', '0', '1', '1', '2', '2']);
    app.reset();
    app.on('/voice', '<Response><Say>Hi</Say></Response>');
    sim.voice.callbacks({ outOfOrderProbability: 1 });
    await sim.voice.call({ from: CALLER, to: NUMBER, webhookUrl: `${base}/voice`, statusCallback: `${base}/status` });
    await sim.idle();
    const seq = app.at('/status').map((s) => s.params.SequenceNumber);
    expect([...seq].sort()).toEqual(['0', '1', '2']);
    expect(seq).not.toEqual(['0', '1', '2']);
  });
});
