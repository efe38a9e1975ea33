import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InternalEventV2 } from '../../../../src/envelope';
import { EMPTY_TWIML } from '../../../../src/twilio/webhooks';
import { autoReplyRequestId } from '../../../../src/twilio/webhooks/auto-reply';
import { readRecords } from '../../../helpers/kafka-consumer';
import { recordCount, testBrokers, testKafka } from '../../../helpers/kafka';
import { waitFor } from '../../../helpers/wait-for';
import { CUSTOMER, SENDER, startWebhookEnvOn } from './webhook-env';

jest.setTimeout(90_000);

const RULES = `
help: "Acme alerts: reply STOP to opt out."
numbers:
  "${SENDER}":
    rules:
      - name: hours
        keyword: hours
        reply: "We are open 9 to 5."
      - name: order
        pattern: '^order\\s+(?<order>\\d{1,10})$'
        reply: "Order {{order}} ships today."
`;

const reply = (text: string) => `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${text}</Message></Response>`;

describe('inbound auto-replies (simulator → service → Kafka → TwiML)', () => {
  it('answers rules and HELP with TwiML after Kafka has the reply’s record, and never an opted-out number', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ie-auto-reply-'));
    const file = path.join(dir, 'auto-replies.yaml');
    writeFileSync(file, RULES);
    const brokers = testBrokers();
    const env = await startWebhookEnvOn(brokers, { env: { AUTO_REPLY_FILE: file } });
    // Replies wait for the opt-out list: the service is ready once the consent topic is loaded.
    await waitFor(async () => (await fetch(`${env.baseUrl}/readyz`)).status === 200, 30_000, 'readiness');

    const hours = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'Hours' });
    expect(hours.statusCodes).toEqual([200]);
    expect(hours.webhook?.responseBody).toBe(reply('We are open 9 to 5.'));
    const order = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'ORDER 42' });
    expect(order.webhook?.responseBody).toBe(reply('Order 42 ships today.'));
    const help = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'help' });
    expect(help.webhook?.responseBody).toBe(reply('Acme alerts: reply STOP to opt out.'));
    const other = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'thanks' });
    expect(other.webhook?.responseBody).toBe(EMPTY_TWIML);
    expect(other.replies).toEqual([]);
    // Twilio (the simulator) texts each <Message> back to the customer from the number they texted.
    expect(env.sim.inspect.replies({ to: CUSTOMER }).map((m) => [m.sid, m.from, m.body])).toEqual([
      [hours.replies[0], SENDER, 'We are open 9 to 5.'],
      [order.replies[0], SENDER, 'Order 42 ships today.'],
      [help.replies[0], SENDER, 'Acme alerts: reply STOP to opt out.'],
    ]);

    // STOP: no confirmation configured (left to Twilio); afterwards nothing is answered to the number.
    const stop = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'STOP' });
    expect(stop.webhook?.responseBody).toBe(EMPTY_TWIML);
    const afterStop = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'hours' });
    expect(afterStop.statusCodes).toEqual([200]);
    expect(afterStop.webhook?.responseBody).toBe(EMPTY_TWIML);

    // Exactly one accepted record per reply texted, on the outcomes topic, keyed by the customer's number.
    const records = await readRecords({ topics: [env.topics.outcomes], count: 3, kafka: testKafka(brokers) });
    expect(await recordCount(env.topics.outcomes, brokers)).toBe(3);
    const events = records.map((r) => JSON.parse(r.value!.toString('utf8')) as InternalEventV2);
    expect(records.map((r) => r.key)).toEqual([CUSTOMER, CUSTOMER, CUSTOMER]);
    expect(records.map((r) => r.headers.ce_type)).toEqual(Array(3).fill('sms.outbound.accepted'));
    const byRequest = new Map(events.map((e) => [e.type === 'sms.outbound.accepted' ? e.data.requestId : '', e]));
    for (const [result, segments] of [
      [hours, 1],
      [order, 1],
      [help, 1],
    ] as const) {
      expect(byRequest.get(autoReplyRequestId(result.messageSid))).toMatchObject({
        type: 'sms.outbound.accepted',
        subject: CUSTOMER,
        causationId: expect.any(String),
        data: {
          to: CUSTOMER,
          status: 'accepted',
          numSegments: segments,
          via: 'twiml_reply',
          inReplyTo: result.messageSid,
        },
      });
    }
    // The inbound events themselves are on the inbound topic, each before its answer.
    expect(await recordCount(env.topics.inbound, brokers)).toBe(6);
  });

  it('refuses to start on a bad rules file, naming each bad entry', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ie-auto-reply-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, `rules:\n  - pattern: '(a)\\1'\n    reply: x\n  - keyword: k\n    reply: 'Hi {{name}}'\n`);
    await expect(startWebhookEnvOn(testBrokers(), { env: { AUTO_REPLY_FILE: file } })).rejects.toThrow(
      /rules\.0\.pattern: cannot be matched in linear time[\s\S]*rules\.1\.reply: uses \{\{name\}\}/,
    );
  });
});
