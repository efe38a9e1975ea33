import { Writable } from 'node:stream';
import type { TopicNames } from '../../../../src/config';
import type { EventOf, InternalEventV2 } from '../../../../src/envelope';
import { createEventPublisher } from '../../../../src/kafka/create-event-publisher';
import { freePort } from '@ingress-egress/sandbox';
import { createLogger, createMetrics, silentLogger, type Metrics } from '../../../../src/observability';
import { buildServer } from '../../../../src/server';
import { onCleanup } from '../../../helpers/cleanup';
import { testConfig } from '../../../helpers/config';
import { createTestTopics, highWatermarks, topicEnv, uniqueName } from '../../../helpers/kafka';
import { followTopics, type ConsumedRecord, type TopicFollower } from '../../../helpers/kafka-consumer';
import {
  AGENT,
  BUSY_NUMBER,
  CALLER,
  callSidOf,
  FORWARD_NUMBER,
  incomingCall,
  NOTICE,
  postSigned,
  recordingSidOf,
  transcriptionSidOf,
  VOICE_ACCOUNT,
  VOICE_TOKEN,
  VOICEMAIL_NUMBER,
  writeRoutingFile,
} from '../../../helpers/voice-calls';

jest.setTimeout(60_000);

let topics: TopicNames;
let base: string;
let reader: TopicFollower;
let metrics: Metrics;
const logLines: string[] = [];
let n = 0;
const nextCall = () => 1000 + ++n;

beforeAll(async () => {
  topics = await createTestTopics('voice');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = testConfig({
    HTTP_PORT: String(port),
    KAFKA_GROUP_ID: uniqueName('voice-group'),
    ...topicEnv(topics),
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: VOICE_ACCOUNT,
    TWILIO_AUTH_TOKEN: VOICE_TOKEN,
    TWILIO_WEBHOOK_BASE_URL: base,
    VOICE_ROUTING_FILE: writeRoutingFile(),
    VOICE_RECORDING_NOTICE: NOTICE,
  });
  metrics = createMetrics({ defaultMetrics: false });
  // Every log line the service writes, at debug, to check what never appears in one.
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const publisher = createEventPublisher(config, { logger: silentLogger, metrics });
  const server = buildServer(config, { logger, metrics, publisher });
  onCleanup(() => server.stop());
  await server.start();
  await server.listen();
  reader = await followTopics([topics.voiceCalls, topics.voiceRecordings], { groupPrefix: 'voice-reader' });
});

const events = (records: readonly ConsumedRecord[]) =>
  records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2);

/** Waits for an event matching `pick` on `topic`, and returns it with its record. */
async function eventOn<T extends InternalEventV2>(
  topic: string,
  pick: (e: InternalEventV2) => e is T,
): Promise<{ event: T; record: ConsumedRecord }> {
  const records = await reader.until(topic, (all) => events(all).some(pick), 20_000);
  const i = events(records).findIndex(pick);
  return { event: events(records)[i] as T, record: records[i]! };
}

const isType =
  <K extends InternalEventV2['type']>(type: K, callSid: string) =>
  (e: InternalEventV2): e is EventOf<K> =>
    e.type === type && 'callSid' in e.data && e.data.callSid === callSid;

describe('voice webhooks (real Kafka, signed requests)', () => {
  it('answers a call to a forwarding number with <Dial> (timeout, action, recording after the notice) and publishes voice.call.received keyed by CallSid', async () => {
    const id = nextCall();
    const res = await postSigned(`${base}/webhooks/twilio/voice`, incomingCall(id, FORWARD_NUMBER));
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/text\/xml/);
    expect(res.body).toContain(`<Say>${NOTICE}</Say><Dial timeout="15"`);
    expect(res.body).toContain(`action="${base}/webhooks/twilio/voice/dial?route=front-desk"`);
    expect(res.body).toContain('record="record-from-answer-dual"');
    expect(res.body).toContain(`recordingStatusCallback="${base}/webhooks/twilio/voice/recording"`);
    expect(res.body).toContain(`<Number>${AGENT}</Number></Dial>`);

    const { event, record } = await eventOn(topics.voiceCalls, isType('voice.call.received', callSidOf(id)));
    expect(record.key).toBe(callSidOf(id));
    expect(record.headers).toMatchObject({
      ce_type: 'voice.call.received',
      ce_id: event.id,
      ce_subject: callSidOf(id),
    });
    expect(event.data).toMatchObject({
      from: CALLER,
      to: FORWARD_NUMBER,
      direction: 'inbound',
      stirVerstat: 'TN-Validation-Passed-A',
      geo: { FromCountry: 'US', FromState: 'CA' },
      route: { name: 'front-desk', action: 'forward' },
    });
    expect(event.tenant.accountSid).toBe(VOICE_ACCOUNT);
  });

  it('answers voicemail with the greeting, the notice, then <Record> (max length, finish key, callbacks, transcription)', async () => {
    const id = nextCall();
    const res = await postSigned(`${base}/webhooks/twilio/voice`, incomingCall(id, VOICEMAIL_NUMBER));
    expect(res.status).toBe(200);
    expect(res.body).toMatch(
      new RegExp(
        `<Say>Please leave a message after the beep.</Say><Say>${NOTICE}</Say><Record maxLength="120" finishOnKey="\\*"`,
      ),
    );
    expect(res.body).toContain(`transcribeCallback="${base}/webhooks/twilio/voice/transcription"`);
    expect(res.body).toContain(`action="${base}/webhooks/twilio/voice?after=record"`);
    await eventOn(topics.voiceCalls, isType('voice.call.received', callSidOf(id)));

    // After the recording, Twilio calls the Record action: the call ends, nothing more is published for it.
    const after = await postSigned(`${base}/webhooks/twilio/voice?after=record`, incomingCall(id, VOICEMAIL_NUMBER));
    expect(after.body).toContain('<Hangup/>');
  });

  it('rejects as busy, and rejects numbers without a rule (the default); a rejected call is still an event', async () => {
    const busyId = nextCall();
    const busy = await postSigned(`${base}/webhooks/twilio/voice`, incomingCall(busyId, BUSY_NUMBER));
    expect(busy.body).toContain('<Reject reason="busy"/>');
    const otherId = nextCall();
    const other = await postSigned(`${base}/webhooks/twilio/voice`, incomingCall(otherId, '+14155550177'));
    expect(other.body).toContain('<Reject reason="rejected"/>');
    // The outbox publishes after the answer: wait for both, so no later test sees them arrive.
    await eventOn(topics.voiceCalls, isType('voice.call.received', callSidOf(busyId)));
    await eventOn(topics.voiceCalls, isType('voice.call.received', callSidOf(otherId)));
  });

  it('refuses unsigned and wrongly signed voice webhooks on every route, and publishes nothing for them', async () => {
    const before = await Promise.all([highWatermarks(topics.voiceCalls), highWatermarks(topics.voiceRecordings)]);
    const id = nextCall();
    const call = incomingCall(id, FORWARD_NUMBER);
    for (const path of ['', '/dial?route=front-desk', '/status', '/recording', '/transcription']) {
      const url = `${base}/webhooks/twilio/voice${path}`;
      const unsigned = await postSigned(url, call, { signature: null });
      expect([unsigned.status, JSON.parse(unsigned.body)]).toEqual([
        400,
        expect.objectContaining({ error: 'signature_missing' }),
      ]);
      const wrong = await postSigned(url, call, { token: 'not-the-token' });
      expect([wrong.status, JSON.parse(wrong.body)]).toEqual([
        403,
        expect.objectContaining({ error: 'signature_invalid' }),
      ]);
      // Signed for another URL (a replay against a different route).
      const replay = await postSigned(url, call, {
        signature: (await import('twilio')).default.getExpectedTwilioSignature(
          VOICE_TOKEN,
          `${base}/webhooks/twilio/sms`,
          call,
        ),
      });
      expect(replay.status).toBe(403);
    }
    const after = await Promise.all([highWatermarks(topics.voiceCalls), highWatermarks(topics.voiceRecordings)]);
    expect(after).toEqual(before);
    expect(
      (await metrics.signatureFailures.get()).values.find((v) => v.labels.reason === 'invalid')!.value,
    ).toBeGreaterThanOrEqual(10);
  });

  it('turns a forward nobody answered into voice.dial.completed (answered false) and answers the voicemail fallback', async () => {
    const id = nextCall();
    await postSigned(`${base}/webhooks/twilio/voice`, incomingCall(id, FORWARD_NUMBER));
    const res = await postSigned(`${base}/webhooks/twilio/voice/dial?route=front-desk`, {
      ...incomingCall(id, FORWARD_NUMBER),
      CallStatus: 'in-progress',
      DialCallStatus: 'no-answer',
      DialCallSid: callSidOf(id + 50_000),
      DialCallDuration: '0',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(
      new RegExp(`<Say>Nobody could take your call. Leave a message.</Say><Say>${NOTICE}</Say><Record maxLength="60"`),
    );
    const { event, record } = await eventOn(topics.voiceCalls, isType('voice.dial.completed', callSidOf(id)));
    expect(record.key).toBe(callSidOf(id));
    expect(event.data).toMatchObject({
      dialCallStatus: 'no-answer',
      answered: false,
      forwardedTo: AGENT,
      route: 'front-desk',
      from: CALLER,
      to: FORWARD_NUMBER,
    });
    const missed = await metrics.voiceCallsMissed.get();
    expect(missed.values.find((v) => v.labels.reason === 'no-answer')!.value).toBeGreaterThanOrEqual(1);

    // An answered forward: hang up after it, answered true.
    const answered = nextCall();
    const done = await postSigned(`${base}/webhooks/twilio/voice/dial?route=front-desk`, {
      ...incomingCall(answered, FORWARD_NUMBER),
      DialCallStatus: 'completed',
      DialCallSid: callSidOf(answered + 50_000),
      DialCallDuration: '31',
    });
    expect(done.body).toContain('<Hangup/>');
    const ok = await eventOn(topics.voiceCalls, isType('voice.dial.completed', callSidOf(answered)));
    expect(ok.event.data).toMatchObject({ answered: true, dialCallDurationSecs: 31 });
  });

  it('publishes status callbacks in order of SequenceNumber: a late one says it does not advance', async () => {
    const id = nextCall();
    const status = (CallStatus: string, SequenceNumber: string, extra: Record<string, string> = {}) =>
      postSigned(`${base}/webhooks/twilio/voice/status`, {
        ...incomingCall(id, FORWARD_NUMBER),
        CallStatus,
        SequenceNumber,
        Timestamp: 'Fri, 04 Dec 2026 16:00:00 +0000',
        ...extra,
      });
    expect((await status('in-progress', '1', { AnsweredBy: 'human' })).status).toBe(204);
    expect((await status('completed', '3', { CallDuration: '42' })).status).toBe(204);
    expect((await status('ringing', '0')).status).toBe(204); // late
    expect((await status('completed', '3', { CallDuration: '42' })).status).toBe(204); // Twilio's retry
    const records = await reader.until(
      topics.voiceCalls,
      (all) =>
        events(all).filter((e) => e.type === 'voice.call.status' && e.data.callSid === callSidOf(id)).length >= 3,
    );
    const mine = events(records).filter(
      (e): e is EventOf<'voice.call.status'> => e.type === 'voice.call.status' && e.data.callSid === callSidOf(id),
    );
    expect(mine.map((e) => [e.data.status, e.data.sequenceNumber, e.data.advances])).toEqual([
      ['in-progress', 1, true],
      ['completed', 3, true],
      ['ringing', 0, false],
    ]);
    expect(mine[0]!.data.answeredBy).toBe('human');
    expect(mine[1]!.data).toMatchObject({ callDurationSecs: 42, terminal: true, rank: 4 });
  });

  it('publishes recordings without credentials in the URL, and never logs the URL or the transcription text', async () => {
    const id = nextCall();
    const secret = 'supersecret-recording-token';
    const recordingUrl = `https://${VOICE_ACCOUNT}:${secret}@api.twilio.com/2010-04-01/Accounts/${VOICE_ACCOUNT}/Recordings/${recordingSidOf(id)}`;
    const rec = await postSigned(`${base}/webhooks/twilio/voice/recording`, {
      AccountSid: VOICE_ACCOUNT,
      CallSid: callSidOf(id),
      RecordingSid: recordingSidOf(id),
      RecordingStatus: 'completed',
      RecordingUrl: recordingUrl,
      RecordingDuration: '17',
      RecordingChannels: '2',
      RecordingSource: 'DialVerb',
    });
    expect(rec.status).toBe(204);
    const failed = await postSigned(`${base}/webhooks/twilio/voice/recording`, {
      AccountSid: VOICE_ACCOUNT,
      CallSid: callSidOf(id),
      RecordingSid: recordingSidOf(id + 1),
      RecordingStatus: 'failed',
      ErrorCode: '13617',
      RecordingUrl: recordingUrl,
    });
    expect(failed.status).toBe(204);
    const text = 'Hi, call me back at five, my card ends 4242';
    const tr = await postSigned(`${base}/webhooks/twilio/voice/transcription`, {
      ...incomingCall(id, VOICEMAIL_NUMBER),
      TranscriptionSid: transcriptionSidOf(id),
      TranscriptionStatus: 'completed',
      TranscriptionText: text,
      RecordingSid: recordingSidOf(id),
      RecordingUrl: recordingUrl,
      TranscriptionUrl: `https://u:${secret}@api.twilio.com/2010-04-01/Accounts/${VOICE_ACCOUNT}/Transcriptions/${transcriptionSidOf(id)}`,
    });
    expect(tr.status).toBe(204);

    const completed = await eventOn(topics.voiceRecordings, isType('voice.recording.completed', callSidOf(id)));
    expect(completed.record.key).toBe(callSidOf(id));
    expect(completed.event.data).toMatchObject({
      recordingSid: recordingSidOf(id),
      mediaUrl: `https://api.twilio.com/2010-04-01/Accounts/${VOICE_ACCOUNT}/Recordings/${recordingSidOf(id)}`,
      durationSecs: 17,
      channels: 2,
      source: 'DialVerb',
    });
    const fail = await eventOn(topics.voiceRecordings, isType('voice.recording.failed', callSidOf(id)));
    expect(fail.event.data).toMatchObject({ status: 'failed', errorCode: 13617 });
    const transcription = await eventOn(topics.voiceRecordings, isType('voice.transcription.completed', callSidOf(id)));
    expect(transcription.event.data).toMatchObject({ text, recordingSid: recordingSidOf(id) });

    const everything = [...reader.records(topics.voiceCalls), ...reader.records(topics.voiceRecordings)]
      .map((r) => `${r.value!.toString('utf8')} ${JSON.stringify(r.headers)}`)
      .join('\n');
    expect(everything).not.toContain(secret);
    expect(logLines.join('')).not.toContain(secret);
    expect(logLines.join('')).not.toContain('card ends 4242');
  });

  it('refuses a payload that is not a voice webhook with 400 and a reason', async () => {
    const res = await postSigned(`${base}/webhooks/twilio/voice/status`, {
      AccountSid: VOICE_ACCOUNT,
      CallSid: callSidOf(nextCall()),
      CallStatus: 'exploded',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      error: 'invalid_payload',
      reason: expect.stringContaining('CallStatus'),
    });
  });
});
