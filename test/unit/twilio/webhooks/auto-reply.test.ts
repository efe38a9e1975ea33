import { clockFrom } from '../../../../src/common/clock';
import { SmsEnvelopeBuilder } from '../../../../src/envelope';
import { silentLogger } from '../../../../src/observability';
import { SmsValidator } from '../../../../src/sms';
import { KeywordDetector } from '../../../../src/sms/keywords';
import { AutoReplier, autoReplyRequestId } from '../../../../src/twilio/webhooks/auto-reply';
import { AutoReplyRules } from '../../../../src/twilio/webhooks/auto-reply-rules';
import { EMPTY_TWIML } from '../../../../src/twilio/webhooks';
import type { InboundParams } from '../../../../src/twilio/webhooks/webhook-params';
import { MemoryPublisher } from '../../../helpers/memory-publisher';

const ACCOUNT = 'AC' + 'a1'.repeat(16);
const SHOP = '+14155550100';
const CUSTOMER = '+14155550123';
const SID = 'SM' + 'd4'.repeat(16);
const STATUS_URL = 'https://sms.example.com/webhooks/twilio/status';

function inbound(body: string, extra: Record<string, string> = {}): InboundParams {
  return {
    params: { AccountSid: ACCOUNT, MessageSid: SID, From: CUSTOMER, To: SHOP, Body: body, ...extra },
    accountSid: ACCOUNT,
    messageSid: SID,
    from: CUSTOMER,
    to: SHOP,
    body,
    messagingServiceSid: undefined,
  };
}

async function setUp(options: { optedOut?: boolean; ready?: boolean; stop?: string } = {}) {
  const publisher = new MemoryPublisher();
  await publisher.start();
  const rules = AutoReplyRules.from(
    {
      help: 'Help text. Reply STOP to opt out.',
      ...(options.stop !== undefined ? { stop: options.stop } : {}),
      rules: [{ name: 'hours', keyword: 'hours', reply: 'Open 9 to 5, {{from}}.' }],
    },
    new SmsValidator({ maxSegments: 10 }),
  );
  const replier = new AutoReplier({
    rules,
    keywords: new KeywordDetector(),
    consent: { ready: () => options.ready ?? true, isOptedOut: () => options.optedOut ?? false },
    builder: new SmsEnvelopeBuilder(clockFrom(() => Date.parse('2026-01-01T00:00:00Z'))),
    publisher,
    logger: silentLogger,
    statusCallbackUrl: STATUS_URL,
  });
  return { publisher, replier };
}

describe('AutoReplier', () => {
  it('answers a matching rule with TwiML only after its accepted record is published', async () => {
    const { publisher, replier } = await setUp();
    const answer = await replier.answer(inbound('Hours'), 1000);
    expect(answer.twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        `<Message action="${STATUS_URL}" method="POST">Open 9 to 5, ${CUSTOMER}.</Message></Response>`,
    );
    expect(publisher.events).toHaveLength(1);
    expect(publisher.events[0]).toMatchObject({
      type: 'sms.outbound.accepted',
      subject: CUSTOMER,
      tenant: { accountSid: ACCOUNT },
      data: {
        requestId: autoReplyRequestId(SID),
        to: CUSTOMER,
        status: 'accepted',
        numSegments: 1,
        encoding: 'GSM-7',
        attempts: 1,
        deduplicated: false,
        via: 'twiml_reply',
        inReplyTo: SID,
      },
    });
    expect(publisher.events[0]!.type === 'sms.outbound.accepted' && publisher.events[0]!.data.messageSid).toBe(
      undefined,
    );
    // A redelivered webhook gives the same record id (consumers drop the repeat).
    const again = await replier.answer(inbound('hours'), 1000);
    expect(again.sent && again.record.id).toBe(publisher.events[0]!.id);
  });

  it('escapes the reply text in the TwiML', async () => {
    const { replier } = await setUp({ stop: 'Bye <b> & "so long"' });
    const answer = await replier.answer(inbound('STOP'), 1000);
    expect(answer.twiml).toContain('>Bye &lt;b&gt; &amp; "so long"</Message>');
  });

  it('answers HELP with the help text', async () => {
    const { replier } = await setUp();
    expect((await replier.answer(inbound('help'), 1000)).twiml).toContain('>Help text. Reply STOP to opt out.<');
  });

  it('never replies to an opted-out number, nor before the opt-out list is loaded', async () => {
    for (const [options, skipped] of [
      [{ optedOut: true }, 'opted_out'],
      [{ ready: false }, 'consent_not_loaded'],
    ] as const) {
      const { publisher, replier } = await setUp(options);
      for (const body of ['hours', 'HELP']) {
        expect(await replier.answer(inbound(body), 1000)).toEqual({ twiml: EMPTY_TWIML, sent: false, skipped });
      }
      expect(publisher.events).toHaveLength(0);
    }
  });

  it('leaves STOP and START to Twilio unless a confirmation is configured, which an opted-out number gets', async () => {
    const quiet = await setUp({ optedOut: true });
    expect(await quiet.replier.answer(inbound('STOP'), 1000)).toMatchObject({ sent: false, skipped: 'no_rule' });
    expect(await quiet.replier.answer(inbound('hello', { OptOutType: 'START' }), 1000)).toMatchObject({
      sent: false,
    });
    const confirming = await setUp({ optedOut: true, stop: 'You will get no more messages.' });
    expect(await confirming.replier.answer(inbound('stop'), 1000)).toMatchObject({ sent: true, rule: 'stop' });
  });

  it('sends nothing when the record is not stored', async () => {
    const { publisher, replier } = await setUp();
    publisher.down = true;
    expect(await replier.answer(inbound('hours'), 1000)).toEqual({
      twiml: EMPTY_TWIML,
      sent: false,
      skipped: 'not_stored',
    });
  });

  it('sends nothing when no rule matches', async () => {
    const { publisher, replier } = await setUp();
    expect(await replier.answer(inbound('what?'), 1000)).toMatchObject({ sent: false, skipped: 'no_rule' });
    expect(publisher.events).toHaveLength(0);
  });
});
