import { createMessagesApi } from '../../../src/twilio/egress/messages-api';
import { DLQ_HEADERS } from '../../../src/egress/dlq-record';
import { listDlq, replayDlq } from '../../../src/egress/egress-dlq';
import { accountOf, testConfig } from '../../helpers/config';
import { testKafka } from '../../helpers/kafka';
import { customer, egressConsumerOf, startEgressEnv, waitFor } from './egress-env';

jest.setTimeout(120_000);

describe('send ledger shared by instances, DLQ list and replay, message lookup', () => {
  it('does not text again when another instance gets a request the first one already sent', async () => {
    const env = await startEgressEnv();
    const req = env.request({ to: customer(1), body: 'only once, whoever handles it' });
    await env.producer.publish(req);
    const a = env.service();
    await a.start();
    await env.read(env.topics.outcomes, 1);
    await a.stop();
    // The same request again (an upstream retry), now handled by a new instance with an empty memory.
    await env.producer.publish(req);
    const b = env.service();
    await b.start();
    const outcomes = env.events(await env.read(env.topics.outcomes, 2));
    await waitFor(() => egressConsumerOf(b).stats().handled === 1, 30_000, 'second instance handled it');
    expect(outcomes.map((o) => o.id)).toEqual([outcomes[0]!.id, outcomes[0]!.id]);
    expect(outcomes[1]).toMatchObject({ type: 'sms.outbound.accepted', data: { deduplicated: true } });
    expect(env.sim.inspect.sentTo(customer(1))).toHaveLength(1);
  });

  it('lists DLQ entries with their cause and replays them (dry run first) without a duplicate', async () => {
    const env = await startEgressEnv({ env: { EGRESS_MAX_ATTEMPTS: '2', TWILIO_CIRCUIT_FAILURE_THRESHOLD: '100' } });
    const fault = env.sim.faults.serverError({ match: { operation: 'create' }, status: 503 });
    const sent = env.request({ to: customer(1), body: 'goes out' });
    const failing = env.request({ to: customer(2), body: 'fails first' });
    await env.producer.publish(failing);
    const server = env.service();
    await server.start();
    const [failed] = env.events(await env.read(env.topics.outcomes, 1));
    expect(failed).toMatchObject({ type: 'sms.outbound.failed', data: { code: 'TWILIO_FAILED', attempts: 2 } });
    env.sim.faults.remove(fault);
    await env.producer.publish(sent);
    await env.read(env.topics.outcomes, 2);

    const kafka = testKafka();
    const entries = await listDlq({ kafka, topic: env.topics.egressDlq });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      format: 'envelope',
      requestId: failing.id,
      cause: { code: 'TWILIO_FAILED', stage: 'send', attempts: 2 },
      source: { topic: env.topics.egress },
    });
    expect(entries[0]!.cause.reason).not.toBe('');
    const dry = await replayDlq({
      kafka,
      topic: env.topics.egressDlq,
      publisher: env.producer,
      egressTopic: env.topics.egress,
      dryRun: true,
      filter: { code: 'TWILIO_FAILED' },
    });
    expect(dry.replayed).toHaveLength(1);
    expect(await env.count(env.topics.egress)).toBe(2);
    const replay = await replayDlq({
      kafka,
      topic: env.topics.egressDlq,
      publisher: env.producer,
      egressTopic: env.topics.egress,
    });
    expect(replay.replayed.map((e) => e.requestId)).toEqual([failing.id]);
    const outcomes = env.events(await env.read(env.topics.outcomes, 3));
    expect(outcomes[2]).toMatchObject({ type: 'sms.outbound.accepted', causationId: failing.id });
    expect(env.sim.inspect.sentTo(customer(2))).toHaveLength(1);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    expect((await env.read(env.topics.egressDlq, 1))[0]!.headers[DLQ_HEADERS.requestId]).toBe(failing.id);
  });

  it('looks a message up by SID and lists the account’s messages with filters', async () => {
    const env = await startEgressEnv();
    await env.producer.publish(env.request({ to: customer(1), body: 'one' }));
    await env.producer.publish(env.request({ to: customer(2), body: 'two' }));
    const server = env.service();
    await server.start();
    const outcomes = env.events(await env.read(env.topics.outcomes, 2));
    const config = testConfig({ ...env.sim.env() });
    const api = createMessagesApi(config, accountOf(config));
    const first = outcomes.find((o) => o.type === 'sms.outbound.accepted' && o.data.to === customer(1))!;
    const sid = (first.type === 'sms.outbound.accepted' ? first.data.messageSid : undefined) ?? '';
    await expect(api.lookup(sid)).resolves.toMatchObject({ sid, to: customer(1), body: 'one' });
    expect((await api.list({ to: customer(2) })).map((m) => m.body)).toEqual(['two']);
    expect(await api.list({ limit: 10 })).toHaveLength(2);
    await expect(api.lookup('SM' + '0'.repeat(32))).rejects.toMatchObject({ status: 404 });
  });
});
