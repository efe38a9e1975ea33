import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../../config';
import { IngressEgressError } from '../../errors';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import { createTwilioRestClient, TWILIO_DEFAULT_API_BASE_URL } from '../rest/rest-client';
import { SignatureVerifier } from '../webhooks';
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
  /** Replaceable seams (tests). */
  adapter?: ConversationsAdapter;
  rest?: ConversationsRest;
  clock?: Clock;
}

export function createConversationsIngress(ctx: ConversationsIngressContext): ConversationsIngress {
  const { config, metrics, publisher } = ctx;
  const t = config.twilio;
  const logger = ctx.logger.child({ part: 'conversations' });
  const accountSid = t.accountSid;
  const apiKeySid = t.apiKeySid;
  const apiKeySecret = t.apiKeySecret;
  const serviceSid = t.conversationsServiceSid;
  if (!accountSid || !apiKeySid || !apiKeySecret || !serviceSid) {
    // The config schema already demands these when Conversations is enabled.
    throw new IngressEgressError(
      'IE_CONFIG_INVALID',
      'Conversations needs TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET and TWILIO_CONVERSATIONS_SERVICE_SID',
    );
  }
  const identity = t.conversationsIdentity;
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
    adapter: ctx.adapter ?? new SdkConversationsAdapter({ socketUrl: t.conversationsSocketUrl }),
    tokens: createAccessTokenProvider({
      accountSid,
      apiKeySid,
      apiKeySecret,
      serviceSid,
      identity,
      ttlSecs: t.conversationsTokenTtlSecs,
    }),
    publisher,
    accountSid,
    serviceSid,
    identity,
    logger,
    metrics,
    backfillLimit: t.conversationsBackfillLimit,
    onClosedConversation: (sid) => membership.leave(sid),
    ...(ctx.clock ? { clock: ctx.clock } : {}),
  });
  let verifier: SignatureVerifier | undefined;
  if (t.webhookValidation) {
    if (!t.webhookBaseUrl) {
      throw new IngressEgressError(
        'IE_CONFIG_INVALID',
        'TWILIO_WEBHOOK_BASE_URL is required to validate webhook signatures',
      );
    }
    verifier = new SignatureVerifier({ authTokens: t.authTokens, baseUrl: t.webhookBaseUrl });
  }
  const route = conversationsWebhookRoute({
    verifier,
    membership,
    ingest: (m, signal) => client.ingestWebhookMessage(m, signal),
    logger,
    metrics,
  });
  return { client, membership, route, sendConversationReply: bindConversationReply({ rest, identity }) };
}
