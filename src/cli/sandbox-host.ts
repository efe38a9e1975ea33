import type { SandboxEvent, SandboxHost, SandboxService } from '@ingress-egress/sandbox';
import { loadConfig } from '../config';
import { parseEnvelope, type InternalEventV2 } from '../envelope';
import { createKafka } from '../kafka/create-kafka';
import { createEventPublisher } from '../kafka/create-event-publisher';
import { topicSpecs } from '../kafka/ensure-topics';
import { createStoppableConsumer } from '../kafka/stoppable-consumer';
import { createLogger, redactPhone } from '../observability';
import { buildServer } from '../server';
import { buildEgressRequest } from './egress-request';

/**
 * The service as the sandbox package runs it: the package holds the story,
 * the broker and the simulators; this side builds the service from the
 * generated environment and reads and writes its own envelopes.
 */
export function createSandboxHost(): SandboxHost {
  return {
    async start(env: Record<string, string>): Promise<SandboxService> {
      const config = loadConfig(env);
      const logger = createLogger({ level: 'warn' });
      const kafka = createKafka(config.kafka, logger);
      // The mock broker has no CreateTopics: it creates a topic when a client asks for its metadata.
      const admin = kafka.admin();
      await admin.connect();
      await admin
        .fetchTopicMetadata({ topics: topicSpecs(config.kafka.topics, config.egress.ledgerTopic).map((t) => t.topic) })
        .finally(() => admin.disconnect());
      const server = buildServer(config, { logger });
      await server.start();
      await server.listen();
      const publisher = createEventPublisher(config, { logger });
      try {
        await publisher.start();
      } catch (err) {
        await server.stop();
        throw err;
      }
      const topics = config.kafka.topics;
      return {
        kafka,
        observedTopics: [
          topics.inbound,
          topics.status,
          topics.consent,
          topics.outcomes,
          topics.voiceCalls,
          topics.voiceRecordings,
        ],
        allTopics: Object.values(topics),
        conversationsIdentity: config.twilio.conversations?.identity ?? 'ingress-egress',
        decode: decodeEvent,
        createConsumer: (consumerConfig) => createStoppableConsumer(kafka, consumerConfig),
        async requestSend(input) {
          const request = buildEgressRequest(input);
          await publisher.publish(request);
          return { id: request.id };
        },
        async stop() {
          await publisher.stop().catch(() => undefined);
          await server.stop();
        },
      };
    },
  };
}

/** One record value as the story's event; undefined for what is not an envelope (ledger, DLQ records). */
export function decodeEvent(value: Buffer): SandboxEvent | undefined {
  let e: InternalEventV2;
  try {
    e = parseEnvelope(JSON.parse(value.toString('utf8')));
  } catch {
    return undefined;
  }
  return { id: e.id, type: e.type, causationId: e.causationId, data: e.data, summary: describeEvent(e) };
}

/** One line per event for the story; phone numbers redacted. */
export function describeEvent(e: InternalEventV2): string {
  switch (e.type) {
    case 'sms.inbound.received':
      return `${e.data.channel} from ${redactPhone(e.data.from)}: "${e.data.body}"`;
    case 'sms.status.updated':
      return `${e.data.messageSid.slice(0, 10)}… ${e.data.status}${e.data.advances ? '' : ' (late)'}`;
    case 'sms.consent.changed':
      return `${e.data.action} ${redactPhone(e.data.phoneNumber)} (${e.data.scope.kind}, via ${e.data.via})`;
    case 'sms.outbound.requested':
      return `to ${redactPhone(e.data.to ?? '?')}: "${e.data.body ?? e.data.template?.name ?? ''}"`;
    case 'sms.outbound.accepted':
      return e.data.messageSid === undefined
        ? `auto-reply (TwiML) to ${redactPhone(e.data.to)}, ${e.data.numSegments} segment(s)`
        : `${e.data.messageSid.slice(0, 10)}… ${e.data.numSegments} segment(s), ${e.data.encoding}`;
    case 'sms.outbound.rejected':
      return `${e.data.code}: ${e.data.reason}`;
    case 'sms.outbound.failed':
      return `${e.data.code}: ${e.data.reason}`;
    case 'voice.call.received':
      return `${e.data.callSid.slice(0, 10)}… from ${redactPhone(e.data.from)}, route ${e.data.route?.name ?? '?'} (${e.data.route?.action ?? '?'})`;
    case 'voice.dial.completed':
      return `${e.data.callSid.slice(0, 10)}… forward ${e.data.dialCallStatus}${e.data.answered ? '' : ' (missed call)'}`;
    case 'voice.call.status':
      return `${e.data.callSid.slice(0, 10)}… ${e.data.status}${e.data.advances ? '' : ' (late)'}`;
    case 'voice.recording.completed':
      return `${e.data.recordingSid.slice(0, 10)}… ${e.data.durationSecs ?? '?'} s, ${e.data.source ?? 'recording'}`;
    case 'voice.transcription.completed':
      return `${e.data.transcriptionSid.slice(0, 10)}… ${e.data.status}`;
    default:
      return '';
  }
}
