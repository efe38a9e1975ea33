import twilio from 'twilio';
import { ManualClock, TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { createSimulatorTwilioClient } from '../../helpers/simulator-client';
import { WebhookReceiver, type ReceivedWebhook } from '../../../packages/twilio-simulator/test/unit/webhook-receiver';

/**
 * Webhooks the simulator sends pass the official `twilio.validateRequest` with
 * the account's auth token, and fail it with any other token, for inbound
 * texts (SMS, MMS, opt-out keywords) and for status callbacks.
 */
const ACCOUNT = 'AC' + '4'.repeat(32);
const TOKEN = 'webhook-contract-token';
const SUB_ACCOUNT = 'AC' + '5'.repeat(32);
const SUB_TOKEN = 'subaccount-token';
const NUMBER = '+15005550006';

describe('webhooks signed as Twilio signs them', () => {
  const receiver = new WebhookReceiver();
  let sim: TwilioSimulator;
  let base: string;

  beforeAll(async () => {
    base = await receiver.start();
    sim = new TwilioSimulator({
      accounts: [
        { accountSid: ACCOUNT, authToken: TOKEN },
        { accountSid: SUB_ACCOUNT, authToken: SUB_TOKEN },
      ],
      clock: new ManualClock(),
      seed: 7,
    });
    await sim.start();
  });

  afterAll(async () => {
    await sim.stop();
    await receiver.stop();
  });

  function signature(w: ReceivedWebhook): string {
    return String(w.headers['x-twilio-signature']);
  }

  it('signs an inbound SMS with the full Twilio parameter set', async () => {
    const result = await sim.sendInbound({
      from: '+14155550100',
      to: NUMBER,
      body: 'Hello there',
      webhookUrl: `${base}/webhooks/twilio/sms?tenant=a b`,
    });
    expect(result.delivered).toBe(true);
    const w = receiver.received.at(-1)!;
    const url = `${base}/webhooks/twilio/sms?tenant=a b`;
    expect(twilio.validateRequest(TOKEN, signature(w), url, w.params)).toBe(true);
    expect(twilio.validateRequest('another-token', signature(w), url, w.params)).toBe(false);
    expect(Object.keys(w.params).sort()).toEqual(
      [
        'AccountSid',
        'ApiVersion',
        'Body',
        'From',
        'FromCity',
        'FromCountry',
        'FromState',
        'FromZip',
        'MessageSid',
        'NumMedia',
        'NumSegments',
        'SmsMessageSid',
        'SmsSid',
        'SmsStatus',
        'To',
        'ToCity',
        'ToCountry',
        'ToState',
        'ToZip',
      ].sort(),
    );
    expect(w.params).toMatchObject({
      AccountSid: ACCOUNT,
      From: '+14155550100',
      To: NUMBER,
      Body: 'Hello there',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
      FromCountry: 'US',
      MessageSid: result.messageSid,
      SmsSid: result.messageSid,
    });
    expect(w.headers['i-twilio-idempotency-token']).toMatch(/^[0-9a-f-]{36}$/);
    expect(w.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('signs an MMS with MediaUrl{N}/MediaContentType{N}', async () => {
    const result = await sim.sendInbound({
      from: '+14155550101',
      to: NUMBER,
      body: '',
      mediaUrls: ['https://example.com/a.png', 'https://example.com/b.gif', 'https://example.com/c'],
      webhookUrl: `${base}/mms`,
    });
    const w = receiver.received.at(-1)!;
    expect(result.messageSid).toMatch(/^MM/);
    expect(twilio.validateRequest(TOKEN, signature(w), `${base}/mms`, w.params)).toBe(true);
    expect(w.params).toMatchObject({
      NumMedia: '3',
      MediaUrl0: 'https://example.com/a.png',
      MediaContentType0: 'image/png',
      MediaUrl1: 'https://example.com/b.gif',
      MediaContentType1: 'image/gif',
      MediaUrl2: 'https://example.com/c',
      MediaContentType2: 'image/jpeg',
    });
  });

  it.each([
    ['STOP', 'STOP'],
    [' unsubscribe ', 'STOP'],
    ['Start', 'START'],
    ['info', 'HELP'],
  ])('adds OptOutType for %j', async (body, type) => {
    await sim.sendInbound({ from: '+14155550102', to: NUMBER, body, webhookUrl: `${base}/sms` });
    const w = receiver.received.at(-1)!;
    expect(w.params.OptOutType).toBe(type);
    expect(twilio.validateRequest(TOKEN, signature(w), `${base}/sms`, w.params)).toBe(true);
  });

  it('signs the URL Twilio requests, without the connection-override fragment', async () => {
    await sim.sendInbound({
      from: '+14155550103',
      to: NUMBER,
      body: 'x',
      webhookUrl: `${base}/sms#rc=2&rp=all&tt=5000`,
    });
    const w = receiver.received.at(-1)!;
    expect(w.path).toBe('/sms');
    expect(twilio.validateRequest(TOKEN, signature(w), `${base}/sms`, w.params)).toBe(true);
  });

  it("signs a subaccount's webhooks with the subaccount's token", async () => {
    await sim.sendInbound({
      from: '+14155550104',
      to: NUMBER,
      body: 'sub',
      accountSid: SUB_ACCOUNT,
      webhookUrl: `${base}/sub`,
    });
    const w = receiver.received.at(-1)!;
    expect(w.params.AccountSid).toBe(SUB_ACCOUNT);
    expect(twilio.validateRequest(SUB_TOKEN, signature(w), `${base}/sub`, w.params)).toBe(true);
    expect(twilio.validateRequest(TOKEN, signature(w), `${base}/sub`, w.params)).toBe(false);
  });

  it('signs every status callback of a message sent through the SDK', async () => {
    const client = createSimulatorTwilioClient(sim);
    const first = receiver.received.length;
    const m = await client.messages.create({
      to: '+14155550105',
      from: NUMBER,
      body: 'status please',
      statusCallback: `${base}/status`,
    });
    await sim.settle();
    const callbacks = receiver.received.slice(first);
    expect(callbacks.map((c) => c.params.MessageStatus)).toEqual(['sending', 'sent', 'delivered']);
    for (const c of callbacks) {
      expect(twilio.validateRequest(TOKEN, signature(c), `${base}/status`, c.params)).toBe(true);
      expect(twilio.validateRequest('another-token', signature(c), `${base}/status`, c.params)).toBe(false);
      expect(c.params).toMatchObject({
        MessageSid: m.sid,
        SmsSid: m.sid,
        AccountSid: ACCOUNT,
        From: NUMBER,
        To: '+14155550105',
        ApiVersion: '2010-04-01',
      });
    }
    expect(callbacks[2]!.params.RawDlrDoneDate).toMatch(/^\d{10}$/);
  });
});
