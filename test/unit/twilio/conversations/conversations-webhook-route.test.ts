import Fastify from 'fastify';
import twilio from 'twilio';
import { SmsEnvelopeBuilder } from '../../../../src/envelope';
import { createMetrics } from '../../../../src/observability';
import { systemClock } from '../../../../src/common/clock';
import { ConversationMembership } from '../../../../src/twilio/conversations/conversation-membership';
import {
  CONVERSATIONS_WEBHOOK_PATH,
  conversationsWebhookRoute,
} from '../../../../src/twilio/conversations/conversations-webhook-route';
import { InboundMessagePublisher } from '../../../../src/twilio/conversations/inbound-message-publisher';
import { SignatureVerifier } from '../../../../src/twilio/webhooks';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import { ACCOUNT, conversationSid, memoryLogger, messageSid, SERVICE } from './fakes';
import { FakeRest } from './rest-fakes';

const AUTH_TOKEN = 'webhook-auth-token-0123456789';
const BASE = 'https://sms.example.com';

async function build(publishTimeoutMs = 4000) {
  const { logger } = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const rest = new FakeRest();
  const publisher = new MemoryPublisher();
  await publisher.start();
  const ingestor = new InboundMessagePublisher({
    publisher,
    builder: new SmsEnvelopeBuilder(),
    accountSid: ACCOUNT,
    serviceSid: SERVICE,
    ownAuthors: ['bot'],
    clock: systemClock,
    logger,
    metrics,
    retry: { initialMs: 10, maxMs: 20 },
  });
  const app = Fastify();
  await conversationsWebhookRoute({
    verifier: new SignatureVerifier({ authTokens: { [ACCOUNT]: AUTH_TOKEN }, baseUrl: BASE }),
    membership: new ConversationMembership(rest, 'bot', logger),
    ingest: (m, signal) => ingestor.ingest(m, signal),
    logger,
    metrics,
    publishTimeoutMs,
  })(app);
  await app.ready();
  const post = (
    params: Record<string, string>,
    signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, BASE + CONVERSATIONS_WEBHOOK_PATH, params),
  ) =>
    app.inject({
      method: 'POST',
      url: CONVERSATIONS_WEBHOOK_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      payload: new URLSearchParams(params).toString(),
    });
  return { app, rest, publisher, post, metrics };
}

const added = {
  EventType: 'onConversationAdded',
  AccountSid: ACCOUNT,
  ChatServiceSid: SERVICE,
  ConversationSid: conversationSid(1),
};
const message = {
  EventType: 'onMessageAdded',
  AccountSid: ACCOUNT,
  ConversationSid: conversationSid(1),
  MessageSid: messageSid(1, 3),
  Index: '3',
  Author: '+15550001111',
  Body: 'hi there',
  Attributes: '{}',
  DateCreated: '2024-01-01T00:00:03.000Z',
  Media: JSON.stringify([{ Sid: 'ME' + 'e'.repeat(32), ContentType: 'image/jpeg', Filename: 'a.jpg' }]),
};

describe('POST /webhooks/twilio/conversations', () => {
  it('refuses an unsigned or wrongly signed request before doing anything', async () => {
    const { app, rest, post } = await build();
    expect((await post(added, '')).statusCode).toBe(400);
    expect((await post(added, 'forged')).statusCode).toBe(403);
    expect(rest.calls).toEqual([]);
    await app.close();
  });

  it('onConversationAdded: joins the conversation as the identity (200), 503 when Twilio failed', async () => {
    const { app, rest, post } = await build();
    const ok = await post(added);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ outcome: 'joined' });
    expect(rest.calls).toEqual([`add ${conversationSid(1)} bot`]);
    rest.failures.push(FakeRest.error(500));
    const retry = await post(added);
    expect(retry.statusCode).toBe(503);
    expect(retry.headers['retry-after']).toBe('2');
    await app.close();
  });

  it('onMessageAdded: publishes the message once (a redelivery is a duplicate) with its media', async () => {
    const { app, publisher, post } = await build();
    const first = await post(message);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ outcome: 'published' });
    expect((await post(message)).json()).toEqual({ outcome: 'duplicate' });
    expect(publisher.events).toHaveLength(1);
    expect(publisher.events[0]).toMatchObject({
      data: {
        channel: 'conversations',
        conversationIndex: 3,
        messageSid: messageSid(1, 3),
        body: 'hi there',
        media: [
          {
            url: `https://mcs.us1.twilio.com/v1/Services/${SERVICE}/Media/${'ME' + 'e'.repeat(32)}`,
            contentType: 'image/jpeg',
          },
        ],
      },
    });
    await app.close();
  });

  it('onMessageAdded: 503 when Kafka does not acknowledge in time, 400 for a payload missing its SIDs', async () => {
    const { app, publisher, post } = await build(100);
    publisher.down = true;
    const r = await post(message);
    expect(r.statusCode).toBe(503);
    const bad = await post({ ...message, MessageSid: '' });
    expect(bad.statusCode).toBe(400);
    await app.close();
  });

  it('acknowledges other event types without acting on them', async () => {
    const { app, rest, publisher, post } = await build();
    const r = await post({ EventType: 'onParticipantAdded', AccountSid: ACCOUNT, ConversationSid: conversationSid(1) });
    expect(r.statusCode).toBe(200);
    expect(rest.calls).toEqual([]);
    expect(publisher.events).toEqual([]);
    await app.close();
  });

  it.each(['CH/../../Accounts', 'CH' + 'a'.repeat(31) + '?', '..', 'CH' + 'g'.repeat(32)])(
    'answers 400 (not 503, which Twilio retries forever) to a conversation SID that is not one: %s',
    async (sid) => {
      const { app, rest, publisher, post } = await build();
      const joined = await post({ ...added, ConversationSid: sid });
      expect(joined.statusCode).toBe(400);
      expect(joined.json()).toEqual({ error: 'invalid_payload', reason: 'ConversationSid is not a conversation SID' });
      const msg = await post({ ...message, ConversationSid: sid });
      expect(msg.statusCode).toBe(400);
      expect(rest.calls).toEqual([]);
      expect(publisher.events).toEqual([]);
      await app.close();
    },
  );

  it('answers 400 to a message whose MessageSid, ParticipantSid or media SID is not one, and publishes nothing', async () => {
    const { app, publisher, post } = await build();
    const bad: Record<string, string>[] = [
      { MessageSid: 'IM../../x' },
      { ParticipantSid: 'MB' + '1'.repeat(31) + '/' },
      { Media: JSON.stringify([{ Sid: '../../../Accounts?x=', ContentType: 'image/jpeg' }]) },
    ];
    const reasons: string[] = [];
    for (const fields of bad) {
      const res = await post({ ...message, ...fields });
      expect(res.statusCode).toBe(400);
      reasons.push((res.json() as { reason: string }).reason);
    }
    expect(reasons).toEqual([
      'MessageSid is not a message SID',
      'ParticipantSid is not a participant SID',
      'Media[0].Sid is not a media SID',
    ]);
    expect(publisher.events).toEqual([]);
    // The same message with good SIDs goes through, its media URL built from the checked SID.
    expect((await post(message)).statusCode).toBe(200);
    expect(publisher.events).toHaveLength(1);
    await app.close();
  });
});
