import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConversationsSimulator, TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { EventObserver } from './event-observer';
import { freePort, LocalKafkaBroker } from './local-broker';
import type { SandboxHost } from './service-kit';
import { StoryPrinter } from './story-printer';

export interface SandboxOptions {
  follow: boolean;
  color: boolean;
  stepTimeoutMs?: number;
  out: { write(s: string): unknown };
  /** Resolves when the user wants to stop (--follow). */
  waitForStop: () => Promise<unknown>;
}

const CUSTOMER = '+15017122661';
const BUSINESS = '+15557654321';
/** Where the business number forwards calls (nobody answers in the story). */
const FRONT_DESK = '+15557654399';

/** The story's voice routing: calls to the business number ring the front desk, then go to voicemail. */
function writeVoiceRouting(dir: string): string {
  const file = path.join(dir, 'voice-routing.yaml');
  writeFileSync(
    file,
    [
      'rules:',
      '  front-desk:',
      '    action: forward',
      `    to: "${FRONT_DESK}"`,
      '    timeoutSecs: 15',
      '    voicemailWhenUnanswered:',
      '      greeting: { say: "Nobody could take your call. Please leave a message." }',
      '      maxLengthSecs: 60',
      '      transcribe: true',
      'numbers:',
      `  "${BUSINESS}": front-desk`,
      'default: { action: reject }',
      '',
    ].join('\n'),
  );
  return file;
}

const hex = (n: number) => randomBytes(n).toString('hex');

/**
 * The local sandbox: a Kafka-protocol broker, the Twilio simulator (REST,
 * signed webhooks, Conversations socket) and the service (started by `host`)
 * with a generated configuration, then a short story shown as it happens.
 * Returns the exit code.
 */
export async function runSandbox(opts: SandboxOptions, host: SandboxHost): Promise<number> {
  const p = new StoryPrinter(opts.out, opts.color);
  const timeout = opts.stepTimeoutMs ?? 20000;
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    p.title('ingress-egress sandbox');
    const broker = new LocalKafkaBroker();
    const bootstrap = await broker.start();
    stops.push(() => broker.stop());
    p.info(`Kafka-protocol broker (librdkafka mock cluster) at ${bootstrap}`);

    const accountSid = `AC${hex(16)}`;
    const authToken = hex(16);
    const apiKey = { sid: `SK${hex(16)}`, secret: hex(16) };
    const serviceSid = `IS${hex(16)}`;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;

    const conversations = new ConversationsSimulator({
      accountSid,
      serviceSid,
      apiKeys: { [apiKey.sid]: apiKey.secret },
      webhook: { url: `${base}/webhooks/twilio/conversations`, authToken },
    });
    await conversations.start();
    stops.push(() => conversations.stop());
    const voiceDir = mkdtempSync(path.join(tmpdir(), 'ie-sandbox-voice-'));
    stops.push(async () => rmSync(voiceDir, { recursive: true, force: true }));
    const sim = new TwilioSimulator({
      accounts: [{ accountSid, authToken, apiKeys: [apiKey] }],
      phoneNumbers: [
        {
          phoneNumber: BUSINESS,
          smsUrl: `${base}/webhooks/twilio/sms`,
          voiceUrl: `${base}/webhooks/twilio/voice`,
          voiceStatusCallback: `${base}/webhooks/twilio/voice/status`,
        },
      ],
      statusDelaysMs: { sending: 300, sent: 300, delivered: 600 },
      extensions: [
        {
          name: 'conversations-rest',
          // The connector reaches every Twilio domain through TWILIO_API_BASE_URL; hand Conversations paths over.
          handleRequest: (req: IncomingMessage, res: ServerResponse) => {
            if (!/^\/v1\/(Conversations|Services)\b/.test(req.url ?? '')) return false;
            void conversations.handleRest(req, res);
            return true;
          },
        },
      ],
    });
    await sim.start();
    stops.push(() => sim.stop());
    p.info(`Twilio simulator at ${sim.baseUrl} (Conversations socket ${conversations.socketUrl})`);

    // A fresh API token per run (all scopes), printed with --follow for the curl example of the README.
    const apiToken = `sbx-${hex(16)}`;
    const env: Record<string, string> = {
      ...sim.env(),
      API_TOKENS: `sandbox:admin:${apiToken}`,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      KAFKA_BROKERS: bootstrap,
      KAFKA_GROUP_ID: `sandbox-${hex(4)}`,
      TWILIO_PHONE_NUMBER: BUSINESS,
      TWILIO_WEBHOOK_BASE_URL: base,
      TWILIO_STATUS_CALLBACK_URL: `${base}/webhooks/twilio/status`,
      TWILIO_CONVERSATIONS_ENABLED: 'true',
      TWILIO_CONVERSATIONS_SERVICE_SID: serviceSid,
      TWILIO_CONVERSATIONS_SOCKET_URL: conversations.socketUrl,
      TWILIO_RATE_LIMIT_PER_SEC: '50',
      VOICE_ROUTING_FILE: writeVoiceRouting(voiceDir),
      VOICE_OUTBOX_DIR: path.join(voiceDir, 'outbox'),
    };
    const t0 = Date.now();
    const service = await host.start(env);
    stops.push(() => service.stop());
    p.info(`service listening at ${base} (ready in ${Date.now() - t0} ms)`);

    const observer = new EventObserver(service, service.observedTopics, (topic, e) => p.event(topic, e));
    await observer.start();
    stops.push(() => observer.stop());

    const wait = (what: string, match: Parameters<EventObserver['waitFor']>[0]) =>
      observer.waitFor(match, timeout, what);
    const send = (body: string) => service.requestSend({ accountSid, to: CUSTOMER, body });

    p.step(1, `A phone (${CUSTOMER}) texts "Hi" to ${BUSINESS}`);
    await sim.sendInbound({ from: CUSTOMER, to: BUSINESS, body: 'Hi' });
    await wait('the inbound event', (e) => e.type === 'sms.inbound.received' && e.data.body === 'Hi');
    p.ok('webhook answered after Kafka acknowledged the inbound event');

    p.step(2, 'The phone texts STOP');
    await sim.sendInbound({ from: CUSTOMER, to: BUSINESS, body: 'STOP' });
    await wait('the opt-out', (e) => e.type === 'sms.consent.changed' && e.data.action === 'opt_out');
    p.ok('opt-out recorded on the consent topic');

    p.step(3, 'An egress request to that phone');
    const refused = await send('Your order has shipped');
    const rejected = await wait('the rejected outcome', (e) => e.causationId === refused.id);
    if (rejected.type !== 'sms.outbound.rejected') throw new Error(`expected a rejection, got ${rejected.type}`);
    p.ok(`refused before calling Twilio: ${rejected.data.code}`);

    p.step(4, 'The phone texts START');
    await sim.sendInbound({ from: CUSTOMER, to: BUSINESS, body: 'START' });
    await wait('the opt-in', (e) => e.type === 'sms.consent.changed' && e.data.action === 'opt_in');
    p.ok('opt-in recorded');

    p.step(5, 'The same egress request again');
    const allowed = await send('Your order has shipped');
    const accepted = await wait('the accepted outcome', (e) => e.causationId === allowed.id);
    if (accepted.type !== 'sms.outbound.accepted')
      throw new Error(`expected acceptance, got ${accepted.type}: ${JSON.stringify(accepted.data)}`);
    p.ok(`Twilio accepted ${accepted.data.messageSid}`);

    p.step(6, 'Status callbacks arrive');
    const sid = accepted.data.messageSid;
    await wait('sent', (e) => e.type === 'sms.status.updated' && e.data.messageSid === sid && e.data.status === 'sent');
    await wait(
      'delivered',
      (e) => e.type === 'sms.status.updated' && e.data.messageSid === sid && e.data.status === 'delivered',
    );
    p.ok('sent, then delivered');

    p.step(7, 'A message arrives in a Twilio Conversation over the socket');
    const conversation = conversations.createConversation({ friendlyName: 'sandbox' });
    conversations.addSmsParticipant(conversation.sid, CUSTOMER, BUSINESS);
    const identity = service.conversationsIdentity;
    await until(
      () => conversations.backend.conversationsOf(identity).some((c) => c.conversation.sid === conversation.sid),
      timeout,
      'the connector to join the conversation',
    );
    conversations.addMessage(conversation.sid, CUSTOMER, 'Hello from a conversation');
    await wait(
      'the conversations event',
      (e) => e.type === 'sms.inbound.received' && e.data.channel === 'conversations',
    );
    p.ok('published from the live session');

    p.step(8, `A caller (${CUSTOMER}) rings ${BUSINESS}; nobody answers the forward to the front desk`);
    const call = await sim.voice.call({
      from: CUSTOMER,
      to: BUSINESS,
      dial: 'no-answer',
      voicemail: { durationSecs: 8, transcript: 'Hi, this is about my order. Please call me back.' },
    });
    if (call.error !== null) throw new Error(`the simulated call failed: ${call.error}`);
    await wait('the call event', (e) => e.type === 'voice.call.received' && e.data.callSid === call.callSid);
    p.ok('call answered with TwiML at once; its event went through the durable outbox');
    await wait(
      'the missed forward',
      (e) => e.type === 'voice.dial.completed' && e.data.callSid === call.callSid && e.data.answered === false,
    );
    p.ok('nobody answered the forward: a missed call, then voicemail');
    await wait('the recording', (e) => e.type === 'voice.recording.completed' && e.data.callSid === call.callSid);
    await wait(
      'the transcription',
      (e) => e.type === 'voice.transcription.completed' && e.data.callSid === call.callSid,
    );
    await wait(
      'the call to end',
      (e) => e.type === 'voice.call.status' && e.data.callSid === call.callSid && e.data.status === 'completed',
    );
    p.ok(`voicemail recorded (${call.recordingSids[0] ?? '?'}) and transcribed; the call completed`);

    p.title(p.paint('green', 'The story played through.'));
    if (opts.follow) {
      p.title('Still running (--follow). Ctrl-C to stop.');
      p.info(`service        ${base}   (/healthz /readyz /metrics)`);
      p.info(`simulator      ${sim.baseUrl}   (inspection under /__sim)`);
      p.info(`kafka          ${bootstrap}`);
      p.info(`topics         ${service.allTopics.join(', ')}`);
      p.info(`api token      ${apiToken}   (all scopes; docs at ${base}/api/docs)`);
      p.info(
        `try: curl -s -X POST '${base}/api/sms?wait=5000' -H 'Authorization: Bearer ${apiToken}' -H 'Content-Type: application/json' -d '{"to":"${CUSTOMER}","body":"hello"}'`,
      );
      p.info(
        `try: KAFKA_BROKERS=${bootstrap} TWILIO_ACCOUNT_SID=${accountSid} ingress-egress send --to ${CUSTOMER} --body hello`,
      );
      p.info(
        `try: curl -s -X POST '${sim.baseUrl}/__sim/calls/incoming' -H 'Content-Type: application/json' -d '{"from":"${CUSTOMER}","to":"${BUSINESS}","dial":"no-answer"}'`,
      );
      await opts.waitForStop();
    }
    await stopAll();
    return 0;
  } catch (err) {
    p.fail((err as Error).message);
    await stopAll();
    return 1;
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
