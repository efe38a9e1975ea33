import type { Kafka } from 'kafkajs';
import type { AppConfig, TwilioAccount } from '../config';
import { createConsentCheck } from './egress/create-consent-check';
import { createSharedEgressParts } from './egress/create-shared-egress-parts';
import { createTwilioEgress } from './egress/create-twilio-egress';
import { messagesApi } from './egress/messages-api';
import { createVoiceEgress } from './voice-egress/create-voice-egress';
import { createCallRoutes } from './voice-egress/call-routes';
import type { EndCallDeps } from './voice-egress/end-call';
import { RecordingFetcher } from './voice-egress/recording-fetcher';
import { createKafka } from '../kafka/create-kafka';
import type { EventPublisherPort } from '../connector/event-publisher-port';
import type { Logger, Metrics } from '../observability';
import { createConversationsIngress } from './conversations';
import { TwilioConnector, type TwilioConnectorParts } from './twilio-connector';
import { createVoiceIngress } from './voice';
import { createWebhookRoutes } from './webhooks';

export interface TwilioConnectorContext {
  config: AppConfig;
  /** The account the connector sends with (config.twilio.account: the connector runs only when Twilio is enabled). */
  account: TwilioAccount;
  logger: Logger;
  metrics: Metrics;
  publisher: EventPublisherPort;
  /** The process's kafkajs client (consent loader, send ledger, outbox check); from config when omitted. */
  kafka?: Kafka;
}

/**
 * Wires the Twilio connector's parts from the configuration. Each capability
 * (webhooks, Conversations, egress) adds its part here.
 */
export function createTwilioConnector(context: TwilioConnectorContext): TwilioConnector {
  // Egress's opt-out list (loaded from the consent topic). Every part publishes through its publisher,
  // which also applies the consent changes they publish to the list as soon as Kafka acknowledges them.
  const kafka = context.kafka ?? createKafka(context.config.kafka, context.logger.child({ part: 'kafka' }));
  const consent = createConsentCheck({ ...context, kafka });
  const ctx: TwilioConnectorContext = { ...context, publisher: consent.publisher };
  const parts: TwilioConnectorParts = { routes: [], foundations: [], ingress: [] };
  // Programmable Messaging webhooks: inbound SMS/MMS and status callbacks.
  parts.routes.push(
    createWebhookRoutes({
      ...ctx,
      consent: {
        ready: () => consent.part.health?.().ready ?? false,
        isOptedOut: (q) => consent.check.isOptedOut(q),
      },
    }),
  );
  // Programmable Voice webhooks: incoming calls (answered from the routing file, events through the durable
  // outbox), call status, dial results, recordings and transcriptions. The outbox is a foundation: it runs
  // before the first call is answered and stops after the last.
  const voice = createVoiceIngress({ ...ctx, kafka });
  parts.routes.push(voice.route);
  parts.foundations.push(voice.outbox);
  let conversationReply: ReturnType<typeof createConversationsIngress>['sendConversationReply'] | undefined;
  const conversationsSettings = ctx.config.twilio.conversations;
  if (conversationsSettings) {
    // The Conversations session (ingress part) and its webhook route; its
    // `sendConversationReply` is for egress events that carry a conversationSid.
    const conversations = createConversationsIngress({ ...ctx, settings: conversationsSettings });
    parts.routes.push(conversations.route);
    parts.ingress.push(conversations.client);
    conversationReply = conversations.sendConversationReply;
  }
  // Egress: the opt-out list and the send ledger are foundations, running before the egress consumer
  // hands out records.
  parts.foundations.push(consent.part);
  // One ledger, one circuit per account, one retry policy, one DLQ and one Twilio client for every request
  // type on the egress topic: SMS, and voice call and end-call requests.
  const shared = createSharedEgressParts({ ...ctx, kafka });
  const voiceEgress = createVoiceEgress({
    ...ctx,
    ...shared,
    doNotCall: { isDoNotCall: (accountSid, phoneNumber) => consent.check.isDoNotCall({ accountSid, phoneNumber }) },
  });
  const egress = createTwilioEgress({
    ...ctx,
    kafka,
    shared,
    consent: consent.check,
    consentReady: consent.ready,
    conversationReply,
    extensions: [voiceEgress.handler],
  });
  // Operator endpoints (API token layer): end a live call, stream a call's recording.
  const { account } = ctx;
  const t = ctx.config.twilio;
  const endDeps: EndCallDeps = { ...shared, calls: voiceEgress.calls, metrics: ctx.metrics };
  let fetcher: RecordingFetcher | undefined;
  parts.routes.push(
    createCallRoutes({
      accountSid: account.sid,
      metrics: ctx.metrics,
      end: endDeps,
      recordings: () =>
        (fetcher ??= new RecordingFetcher({
          apiBaseUrl: t.apiBaseUrl,
          accountSid: account.sid,
          authToken: account.authToken,
          timeoutMs: t.timeoutMs,
        })),
    }),
  );
  parts.foundations.push(...egress.parts);
  parts.egress = egress.handler;
  parts.services = {
    ledger: egress.ledger,
    consent: consent.store,
    consentPublisher: consent.publisher,
    messages: messagesApi(egress.messages, account.sid),
  };
  return new TwilioConnector(parts);
}
