import type { InternalEventV2 } from '../../../../src/envelope';
import { createSimulatorTwilioClient } from '../../../helpers/simulator-client';
import { CUSTOMER, SENDER, STATUS_PATH, useWebhookEnv, type WebhookEnv } from './webhook-env';

jest.setTimeout(60_000);

const UNDELIVERABLE = '+14155550124';
const FAILING = '+14155550125';

type StatusEvent = Extract<InternalEventV2, { type: 'sms.status.updated' }>;

async function send(env: WebhookEnv, to: string): Promise<string> {
  const client = createSimulatorTwilioClient(env.sim);
  const m = await client.messages.create({
    from: SENDER,
    to,
    body: 'status please',
    statusCallback: `${env.baseUrl}${STATUS_PATH}`,
  });
  await env.sim.idle();
  return m.sid;
}

/** Steps a message to its end, letting each callback finish before the next. */
async function runToEnd(env: WebhookEnv, sid: string): Promise<void> {
  while (env.sim.step(sid) !== undefined) await env.sim.idle();
}

function statusesOf(events: InternalEventV2[], sid: string): [string, boolean][] {
  return events
    .filter((e): e is StatusEvent => e.type === 'sms.status.updated' && e.data.messageSid === sid)
    .map((e) => [e.data.status, e.data.advances]);
}

describe('status callbacks from the simulator to Kafka', () => {
  const webhooks = useWebhookEnv();

  it('publishes every status of delivered, undelivered and failed messages, then read', async () => {
    const env = await webhooks.start({
      sim: {
        autoProgress: false,
        outcomes: [
          { to: UNDELIVERABLE, status: 'undelivered', errorCode: 30003 },
          { to: FAILING, status: 'failed', errorCode: 30008 },
        ],
      },
    });
    const delivered = await send(env, CUSTOMER);
    const undelivered = await send(env, UNDELIVERABLE);
    const failed = await send(env, FAILING);
    for (const sid of [delivered, undelivered, failed]) await runToEnd(env, sid);
    env.sim.setStatus(delivered, 'read');
    await env.sim.idle();

    const callbacks = env.sim.inspect.webhooks().filter((w) => w.kind === 'status-callback');
    expect(callbacks.every((w) => w.status === 204)).toBe(true);
    const { records, events } = await env.envelopes(env.topics.status, callbacks.length);
    expect(records.every((r) => r.key === (JSON.parse(r.value!.toString()) as StatusEvent).data.messageSid)).toBe(true);
    expect(statusesOf(events, delivered)).toEqual([
      ['sending', true],
      ['sent', true],
      ['delivered', true],
      ['read', true],
    ]);
    expect(statusesOf(events, undelivered).at(-1)).toEqual(['undelivered', true]);
    expect(statusesOf(events, failed).map(([s]) => s)).toContain('failed');
    const failure = events.find((e): e is StatusEvent => e.type === 'sms.status.updated' && e.data.status === 'failed');
    expect(failure!.data).toMatchObject({ errorCode: 30008, terminal: true });
    const late = events.find(
      (e): e is StatusEvent => e.type === 'sms.status.updated' && e.data.status === 'undelivered',
    );
    expect(late!.data).toMatchObject({ errorCode: 30003, rawDlrDoneDate: expect.stringMatching(/^\d{10}$/) });
  });

  it('publishes callbacks that arrive out of order, the late ones marked as not advancing', async () => {
    // Every non-final callback is held back and sent after the following one.
    const env = await webhooks.start({ sim: { autoProgress: false, callbacks: { outOfOrderProbability: 1 } } });
    const sid = await send(env, CUSTOMER);
    await runToEnd(env, sid);
    const sent = env.sim.inspect.webhooks().filter((w) => w.kind === 'status-callback');
    const arrival = sent.map((w) => w.params.MessageStatus);
    const { events } = await env.envelopes(env.topics.status, sent.length);
    const published = statusesOf(events, sid);
    expect(published.map(([s]) => s)).toEqual(arrival);
    const rank: Record<string, number> = { sending: 2, sent: 3, delivered: 4 };
    let highest = -1;
    for (const [status, advances] of published) {
      expect(advances).toBe(rank[status]! > highest);
      highest = Math.max(highest, rank[status]!);
    }
    expect(published.some(([, advances]) => !advances)).toBe(true);
  });

  it('treats a repeated status of a message as a redelivery, not a new fact', async () => {
    const env = await webhooks.start({ sim: { autoProgress: false } });
    const sid = await send(env, CUSTOMER);
    await runToEnd(env, sid);
    env.sim.setStatus(sid, 'sent'); // same MessageSid + status, new idempotency token
    await env.sim.idle();
    const sent = env.sim.inspect.webhooks().filter((w) => w.kind === 'status-callback');
    expect(sent.at(-1)!.status).toBe(204);
    const { events } = await env.envelopes(env.topics.status, sent.length - 1);
    expect(statusesOf(events, sid).map(([s]) => s)).toEqual(['sending', 'sent', 'delivered']);
  });

  it('publishes each status once when Twilio delivers every callback twice', async () => {
    const env = await webhooks.start({ sim: { autoProgress: false, callbacks: { duplicateProbability: 1 } } });
    const sid = await send(env, CUSTOMER);
    await runToEnd(env, sid);
    const callbacks = env.sim.inspect.webhooks().filter((w) => w.kind === 'status-callback');
    expect(callbacks.every((w) => w.status === 204)).toBe(true);
    const distinct = new Set(callbacks.map((w) => w.params.MessageStatus)).size;
    expect(callbacks.length).toBe(distinct * 2);
    const { events } = await env.envelopes(env.topics.status, distinct);
    expect(statusesOf(events, sid).map(([s]) => s)).toEqual(['sending', 'sent', 'delivered']);
  });
});
