import type { FastifyInstance } from 'fastify';
import type { AppConfig, ConversationsConfig } from '../../config';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import { createTwilioRestClient, TWILIO_DEFAULT_API_BASE_URL } from '../rest/rest-client';
import { createSignatureVerifier } from '../webhooks/create-signature-verifier';
import { createAccessTokenProvider } from './access-token-provider';
import type { Clock } from '../../common/clock';
import type { ConversationsAdapter } from './conversations-adapter';
import { ConversationMembership } from './conversation-membership';
import { TwilioConversationsRest, type ConversationsRest } from './conversations-rest';
import { conversationsWebhookRoute } from './conversations-webhook-route';
import { SdkConversationsAdapter } from './sdk-conversations-adapter';
import { bindConversationReply, type ConversationReply, type ConversationReplyResult } from './send-conversation-reply';
import { TwilioSmsIngressClient } from './twilio-sms-ingress-client';

/**
 * Everything Conversations adds to the Twilio connector, from the
 * configuration: the ingress part (the WebSocket session), the webhook route
 * and the reply sender the egress pipeline uses for `conversationSid` events.
 */
export interface ConversationsIngress {
  client: TwilioSmsIngressClient;
  membership: ConversationMembership;
  route: (app: FastifyInstance) => Promise<void>;
  sendConversationReply: (reply: ConversationReply) => Promise<ConversationReplyResult>;
}

export interface ConversationsIngressContext {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  publisher: EventPublisherPort;
  /** TWILIO_CONVERSATIONS_* (config.twilio.conversations, present when enabled). */
  settings: ConversationsConfig;
  /** Replaceable seams (tests). */
  adapter?: ConversationsAdapter;
  rest?: ConversationsRest;
  clock?: Clock;
}

export function createConversationsIngress(ctx: ConversationsIngressContext): ConversationsIngress {
  const { config, metrics, publisher, settings } = ctx;
  const t = config.twilio;
  const logger = ctx.logger.child({ part: 'conversations' });
  const { accountSid, apiKeySid, apiKeySecret, serviceSid, identity } = settings;
  const rest =
    ctx.rest ??
    new TwilioConversationsRest({
      client: createTwilioRestClient({
        accountSid,
        apiKeySid,
        apiKeySecret,
        apiBaseUrl: t.apiBaseUrl,
        timeoutMs: t.timeoutMs,
      }),
      serviceSid,
      mediaBaseUrl: t.apiBaseUrl === TWILIO_DEFAULT_API_BASE_URL ? 'https://mcs.us1.twilio.com' : t.apiBaseUrl,
      mediaAuth: { username: apiKeySid, password: apiKeySecret },
      timeoutMs: t.timeoutMs,
    });
  const membership = new ConversationMembership(rest, identity, logger);
  const client = new TwilioSmsIngressClient({
    adapter: ctx.adapter ?? new SdkConversationsAdapter({ socketUrl: settings.socketUrl }),
    tokens: createAccessTokenProvider({
      accountSid,
      apiKeySid,
      apiKeySecret,
      serviceSid,
      identity,
      ttlSecs: settings.tokenTtlSecs,
    }),
    publisher,
    accountSid,
    serviceSid,
    identity,
    logger,
    metrics,
    backfillLimit: settings.backfillLimit,
    onClosedConversation: (sid) => membership.leave(sid),
    ...(ctx.clock ? { clock: ctx.clock } : {}),
  });
  const verifier = createSignatureVerifier(t.signing, logger);
  const route = conversationsWebhookRoute({
    verifier,
    membership,
    ingest: (m, signal) => client.ingestWebhookMessage(m, signal),
    logger,
    metrics,
  });
  return { client, membership, route, sendConversationReply: bindConversationReply({ rest, identity }) };
}
