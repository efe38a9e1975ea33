import { Writable } from 'node:stream';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import type { TopicNames } from '../../../../src/config';
import type { EventOf, InternalEventV2 } from '../../../../src/envelope';
import { createEventPublisher } from '../../../../src/kafka/create-event-publisher';
import { freePort } from '@ingress-egress/sandbox';
import { createLogger, createMetrics, silentLogger } from '../../../../src/observability';
import { buildServer } from '../../../../src/server';
import { onCleanup } from '../../../helpers/cleanup';
import { testConfig } from '../../../helpers/config';
import { createTestTopics, topicEnv, uniqueName } from '../../../helpers/kafka';
import { followTopics, type TopicFollower } from '../../../helpers/kafka-consumer';
import {
  AGENT,
  CALLER,
  FORWARD_NUMBER,
  NOTICE,
  VOICE_ACCOUNT,
  VOICE_TOKEN,
  writeRoutingFile,
} from '../../../helpers/voice-calls';

/**
 * An incoming call played by the Twilio simulator against the service on
 * real Kafka: the simulator rings the number (signed voice webhook), reads
 * the service's TwiML, lets the forward go unanswered, follows the Dial
 * action into voicemail, records and transcribes it, and sends the call's
 * status callbacks. Every event lands on Kafka; no recording URL with
 * credentials is in any event, nor any secret in the service's log output.
 */
jest.setTimeout(90_000);

let topics: TopicNames;
let reader: TopicFollower;
let sim: TwilioSimulator;
const logLines: string[] = [];

beforeAll(async () => {
  topics = await createTestTopics('voicesim');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  sim = new TwilioSimulator({
    accounts: [{ accountSid: VOICE_ACCOUNT, authToken: VOICE_TOKEN }],
    seed: uniqueName('voicesim'),
    phoneNumbers: [
      {
        phoneNumber: FORWARD_NUMBER,
        voiceUrl: `${base}/webhooks/twilio/voice`,
        voiceStatusCallback: `${base}/webhooks/twilio/voice/status`,
      },
    ],
  });
  onCleanup(() => sim.stop());
  await sim.start();
  const config = testConfig({
    HTTP_PORT: String(port),
    KAFKA_GROUP_ID: uniqueName('voicesim-group'),
    ...topicEnv(topics),
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: VOICE_ACCOUNT,
    TWILIO_AUTH_TOKEN: VOICE_TOKEN,
    TWILIO_API_BASE_URL: sim.baseUrl,
    TWILIO_WEBHOOK_BASE_URL: base,
    VOICE_ROUTING_FILE: writeRoutingFile(),
    VOICE_RECORDING_NOTICE: NOTICE,
  });
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = createEventPublisher(config, { logger: silentLogger, metrics });
  const server = buildServer(config, { logger, metrics, publisher });
  onCleanup(() => server.stop());
  await server.start();
  await server.listen();
  reader = await followTopics([topics.voiceCalls, topics.voiceRecordings], { groupPrefix: 'voicesim-reader' });
});

const events = (records: readonly { value: Buffer | null }[]) =>
  records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2);

const ofCall = (callSid: string) => (e: InternalEventV2) => 'callSid' in e.data && e.data.callSid === callSid;

/** user:password@ in any URL. */
const CREDENTIALS_IN_URL = /[a-z]+:\/\/[^/\s"@]*:[^/\s"@]*@/i;

describe('an incoming call played by the simulator (real Kafka)', () => {
  it('nobody answers the forward, voicemail is recorded: received, dial, status, recording and transcription events', async () => {
    const result = await sim.voice.call({
      from: CALLER,
      to: FORWARD_NUMBER,
      dial: 'no-answer',
      voicemail: { durationSecs: 9, transcript: 'Please call me back about the order.' },
      stirVerstat: 'TN-Validation-Passed-A',
    });
    expect(result).toMatchObject({ status: 'completed', dialCallStatus: 'no-answer', error: null });
    // The service's TwiML: the notice and the forward, then after the unanswered Dial its voicemail.
    expect(result.verbs).toEqual(['Say', 'Dial', 'Say', 'Say', 'Record', 'Hangup']);
    expect(result.webhooks.map((w) => [w.kind, w.status])).toEqual([
      ['voice', 200],
      ['dial-action', 200],
      ['record-action', 200],
    ]);
    await sim.idle();
    const callSid = result.callSid;
    const recordingSid = result.recordingSids[0]!;
    const onCalls = await reader.until(
      topics.voiceCalls,
      (all) => {
        const mine = events(all).filter(ofCall(callSid));
        return mine.some((e) => e.type === 'voice.call.status' && e.data.status === 'completed') && mine.length >= 5;
      },
      30_000,
      'call events',
    );
    const calls = events(onCalls).filter(ofCall(callSid));
    const received = calls.find((e): e is EventOf<'voice.call.received'> => e.type === 'voice.call.received');
    expect(received?.data).toMatchObject({
      from: CALLER,
      to: FORWARD_NUMBER,
      stirVerstat: 'TN-Validation-Passed-A',
      route: { name: 'front-desk', action: 'forward' },
    });
    const dial = calls.find((e): e is EventOf<'voice.dial.completed'> => e.type === 'voice.dial.completed');
    expect(dial?.data).toMatchObject({ dialCallStatus: 'no-answer', answered: false, forwardedTo: AGENT });
    const statuses = calls.filter((e): e is EventOf<'voice.call.status'> => e.type === 'voice.call.status');
    expect(statuses.map((s) => [s.data.status, s.data.sequenceNumber])).toEqual([
      ['ringing', 0],
      ['in-progress', 1],
      ['completed', 2],
    ]);
    expect(statuses.every((s) => s.data.advances)).toBe(true);

    const onRecordings = await reader.until(
      topics.voiceRecordings,
      (all) => {
        const mine = events(all).filter(ofCall(callSid));
        return (
          mine.some((e) => e.type === 'voice.recording.completed') &&
          mine.some((e) => e.type === 'voice.transcription.completed')
        );
      },
      30_000,
      'recording events',
    );
    const recs = events(onRecordings).filter(ofCall(callSid));
    const recording = recs.find(
      (e): e is EventOf<'voice.recording.completed'> => e.type === 'voice.recording.completed',
    );
    expect(recording?.data).toMatchObject({ recordingSid, durationSecs: 9, channels: 1, source: 'RecordVerb' });
    expect(recording?.data.mediaUrl).toBe(
      `${sim.baseUrl}/2010-04-01/Accounts/${VOICE_ACCOUNT}/Recordings/${recordingSid}`,
    );
    const transcription = recs.find(
      (e): e is EventOf<'voice.transcription.completed'> => e.type === 'voice.transcription.completed',
    );
    expect(transcription?.data).toMatchObject({ recordingSid, text: 'Please call me back about the order.' });

    // No credentials in any event or log line; no transcript, number or recording URL in the logs either.
    for (const e of [...calls, ...recs]) {
      const json = JSON.stringify(e);
      expect(json).not.toMatch(CREDENTIALS_IN_URL);
      expect(json).not.toContain(VOICE_TOKEN);
    }
    expect(logLines.length).toBeGreaterThan(0);
    const log = logLines.join('');
    expect(log).not.toContain(VOICE_TOKEN);
    expect(log).not.toMatch(CREDENTIALS_IN_URL);
    expect(log).not.toContain(recordingSid);
    expect(log).not.toContain('Please call me back');
  });

  it('a forward that is answered ends with a dual recording of the conversation and answered=true', async () => {
    const result = await sim.voice.call({ from: CALLER, to: FORWARD_NUMBER, dial: 'answered', talkSecs: 42 });
    expect(result).toMatchObject({ status: 'completed', dialCallStatus: 'completed' });
    await sim.idle();
    const recordingSid = result.recordingSids[0]!;
    const all = await reader.until(
      topics.voiceRecordings,
      (rs) => events(rs).some((e) => e.type === 'voice.recording.completed' && e.data.recordingSid === recordingSid),
      30_000,
      'dial recording',
    );
    const rec = events(all).find((e) => e.type === 'voice.recording.completed' && e.data.recordingSid === recordingSid);
    expect(rec?.data).toMatchObject({ channels: 2, source: 'DialVerb', durationSecs: 42 });
    const onCalls = await reader.until(
      topics.voiceCalls,
      (rs) => events(rs).some((e) => e.type === 'voice.dial.completed' && e.data.callSid === result.callSid),
      30_000,
      'dial',
    );
    const dial = events(onCalls).find((e) => e.type === 'voice.dial.completed' && e.data.callSid === result.callSid);
    expect(dial?.data).toMatchObject({ dialCallStatus: 'completed', answered: true });
  });
});
