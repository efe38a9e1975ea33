import type { InternalEventV2 } from '../../../src/envelope';
import { DLQ_HEADERS } from '../../../src/egress/dlq-record';
import { ACCOUNT, customer, egressConsumerOf, MG, SENDER, startEgressEnv, waitFor } from './egress-env';

jest.setTimeout(120_000);

const TEMPLATES = [{ name: 'otp', body: 'Your code is {{code}}', variables: { code: { type: 'string' } } }];

function byRequest(events: InternalEventV2[]) {
  const out = new Map<string, InternalEventV2[]>();
  for (const e of events) {
    const id = e.causationId!;
    out.set(id, [...(out.get(id) ?? []), e]);
  }
  return out;
}

describe('egress from sms.egress to Twilio (simulator) and sms.outcomes', () => {
  it('gives valid, invalid, opted-out, template, MMS, scheduled and bulk requests their outcomes, sending exactly what it should', async () => {
    const env = await startEgressEnv({ templates: TEMPLATES });
    // Opt-outs on the consent topic before the service starts: the loader must have them before egress sends.
    // Requests naming no sender go out through the default messaging service.
    await env.producer.publish(
      env.builder.consentChanged({
        accountSid: ACCOUNT,
        action: 'opt_out',
        phoneNumber: customer(3),
        scope: { kind: 'messaging_service', messagingServiceSid: MG },
        via: 'keyword',
        keyword: 'STOP',
      }),
    );
    await env.producer.publish(
      env.builder.consentChanged({
        accountSid: ACCOUNT,
        action: 'opt_out',
        phoneNumber: customer(9),
        scope: { kind: 'sender', sender: SENDER },
        via: 'keyword',
        keyword: 'STOP',
      }),
    );
    const requests = {
      valid: env.request({ to: customer(1), body: 'hello one' }),
      invalid: env.request({ to: '+1555', body: 'never sent' }),
      optedOut: env.request({ to: customer(3), body: 'never sent either' }),
      optedOutOfNumber: env.request({ to: customer(9), from: SENDER, body: 'nor this' }),
      template: env.request({ to: customer(4), template: { name: 'otp', variables: { code: '9876' } } }),
      mms: env.request({ to: customer(5), body: 'a picture', mediaUrls: ['https://cdn.example.com/cat.jpg'] }),
      scheduled: env.request(
        { to: customer(6), body: 'tomorrow', sendAt: new Date(Date.now() + 86_400_000).toISOString() },
        MG,
      ),
      // customer(7) twice, in two spellings: one number, texted once.
      bulk: env.request({
        recipients: [customer(7), `+1 415-${customer(7).slice(5, 8)}-${customer(7).slice(8)}`, customer(8), 'oops'],
        body: 'to everyone',
      }),
    };
    for (const r of Object.values(requests)) await env.producer.publish(r);
    const server = env.service();
    await server.start();

    // 7 single outcomes + 3 bulk outcomes + 1 summary.
    const records = await env.read(env.topics.outcomes, 11);
    expect(await env.count(env.topics.outcomes)).toBe(11);
    const outcomes = byRequest(env.events(records));
    const single = (r: InternalEventV2) => {
      const list = outcomes.get(r.id) ?? [];
      expect(list).toHaveLength(1);
      return list[0]!;
    };
    const sent = env.sim.inspect.sent();
    expect(sent.map((m) => m.to).sort()).toEqual(
      [customer(1), customer(4), customer(5), customer(6), customer(7), customer(8)].sort(),
    );
    expect(env.sim.inspect.duplicateCount()).toBe(0);

    expect(single(requests.valid)).toMatchObject({
      type: 'sms.outbound.accepted',
      data: {
        to: customer(1),
        messageSid: sent.find((m) => m.to === customer(1))!.sid,
        encoding: 'GSM-7',
        numSegments: 1,
      },
    });
    expect(single(requests.invalid)).toMatchObject({
      type: 'sms.outbound.rejected',
      data: { code: 'SMS_PHONE_INVALID' },
    });
    expect(single(requests.optedOut)).toMatchObject({ type: 'sms.outbound.rejected', data: { code: 'OPTED_OUT' } });
    expect(single(requests.optedOutOfNumber)).toMatchObject({
      type: 'sms.outbound.rejected',
      data: { code: 'OPTED_OUT' },
    });
    expect(single(requests.template)).toMatchObject({ type: 'sms.outbound.accepted' });
    expect(sent.find((m) => m.to === customer(4))!.body).toBe('Your code is 9876');
    expect(single(requests.mms)).toMatchObject({ type: 'sms.outbound.accepted' });
    expect(sent.find((m) => m.to === customer(5))!.mediaUrls).toEqual(['https://cdn.example.com/cat.jpg']);
    const scheduled = single(requests.scheduled);
    expect(scheduled).toMatchObject({ type: 'sms.outbound.accepted', data: { status: 'scheduled' } });
    expect(sent.find((m) => m.to === customer(6))).toMatchObject({ messagingServiceSid: MG, status: 'scheduled' });
    const bulk = outcomes.get(requests.bulk.id)!;
    expect(bulk.map((e) => e.type).sort()).toEqual([
      'sms.outbound.accepted',
      'sms.outbound.accepted',
      'sms.outbound.rejected',
      'sms.outbound.summary',
    ]);
    expect(bulk.find((e) => e.type === 'sms.outbound.summary')!.data).toMatchObject({
      total: 3,
      accepted: 2,
      rejected: 1,
    });

    // Cancel the scheduled message through its request id.
    const scheduledSid = (scheduled.type === 'sms.outbound.accepted' ? scheduled.data.messageSid : undefined) ?? '';
    await env.producer.publish(
      env.builder.build('sms.outbound.cancel_requested', {
        accountSid: ACCOUNT,
        subject: customer(6),
        data: { requestId: requests.scheduled.id },
      }),
    );
    const all = env.events(await env.read(env.topics.outcomes, 12));
    expect(all.find((e) => e.type === 'sms.outbound.canceled')!.data).toMatchObject({
      requestId: requests.scheduled.id,
      messageSid: scheduledSid,
      status: 'canceled',
    });
    expect(env.sim.inspect.message(scheduledSid)!.status).toBe('canceled');

    // Offsets are committed: everything handled, nothing for the DLQ.
    await waitFor(() => egressConsumerOf(server).stats().handled === 9, 30_000, 'handled');
    expect(await env.count(env.topics.egressDlq)).toBe(0);
  });

  it('sends an undecodable record to the DLQ with its cause, skips other connectors’ requests, and goes on', async () => {
    const env = await startEgressEnv();
    await env.producer.publishRaw({ topic: env.topics.egress, key: customer(1), value: Buffer.from('{not json') });
    // A request for another connector: counted and committed, not ours to answer.
    await env.producer.publish(
      env.builder.build('sms.outbound.requested', {
        accountSid: ACCOUNT,
        subject: customer(1),
        source: 'whatsapp',
        data: { to: customer(1), body: 'not for twilio' },
      }),
    );
    const good = env.request({ to: customer(1), body: 'after the poison' });
    await env.producer.publish(good);
    const server = env.service();
    await server.start();
    const [dlq] = await env.read(env.topics.egressDlq, 1);
    expect(dlq!.value!.toString()).toBe('{not json');
    expect(dlq!.headers).toMatchObject({
      [DLQ_HEADERS.code]: 'IE_ENVELOPE_DECODE',
      [DLQ_HEADERS.stage]: 'decode',
      [DLQ_HEADERS.format]: 'raw',
      [DLQ_HEADERS.sourceTopic]: env.topics.egress,
    });
    const [outcome] = env.events(await env.read(env.topics.outcomes, 1));
    expect(outcome).toMatchObject({ type: 'sms.outbound.accepted', causationId: good.id });
    await waitFor(() => egressConsumerOf(server).stats().poison === 1, 10_000, 'poison counted');
    expect(egressConsumerOf(server).stats()).toMatchObject({ unrouted: 1, handled: 1 });
    // Not silently: counted by source.
    const unrouted = (await env.metrics.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'kafka_egress_unrouted_total',
    );
    expect(unrouted?.values).toEqual([{ labels: { source: 'whatsapp' }, value: 1 }]);
    expect(await env.count(env.topics.outcomes)).toBe(1);
    expect(env.sim.inspect.sent().map((m) => m.body)).toEqual(['after the poison']);
  });
});
