import { runCli } from '../../../src/cli/cli';
import '../../../src/cli/commands';
import type { CliIo } from '../../../src/cli/io';
import { DlqWriter } from '../../../src/twilio/egress';
import { createEventPublisher } from '../../../src/kafka/create-event-publisher';
import { silentLogger } from '../../../src/observability';
import { buildEgressRequest } from '../../../src/cli/egress-request';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import '../../helpers/cleanup';
import { onCleanup } from '../../helpers/cleanup';
import { createTestTopics, recordCount, testBrokers, testKafkaConfig } from '../../helpers/kafka';

const ACCOUNT = 'AC' + 'd'.repeat(32);

function cli(argv: string[], env: Record<string, string>) {
  let out = '';
  let err = '';
  const io: CliIo = {
    argv,
    env,
    cwd: '/nonexistent',
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    waitForSignal: () => new Promise(() => undefined),
  };
  return runCli(io).then((code) => ({ code, out, err }));
}

describe('ingress-egress dlq', () => {
  it('lists DLQ records with their cause, replays them (dry run first)', async () => {
    const topics = await createTestTopics('cli-dlq');
    const publisher = createEventPublisher(
      { kafka: testKafkaConfig(topics), schemaRegistry: undefined },
      { logger: silentLogger },
    );
    await publisher.start();
    onCleanup(() => publisher.stop());
    const writer = new DlqWriter(publisher, topics.egressDlq);
    const request = buildEgressRequest({ accountSid: ACCOUNT, to: '+15005550009', body: 'hello' });
    await writer.writeEvent(
      request,
      { code: 'TWILIO_PERMANENT', reason: 'Twilio said no', stage: 'send', attempts: 1, twilioErrorCode: 21211 },
      undefined,
    );

    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC_EGRESS: topics.egress,
      KAFKA_TOPIC_EGRESS_DLQ: topics.egressDlq,
    };
    const list = await cli(['dlq', 'list'], env);
    expect(list).toMatchObject({ code: 0, err: '' });
    expect(list.out).toContain('1 record(s)');
    expect(list.out).toContain(`request=${request.id} TWILIO_PERMANENT twilio=21211 at send: Twilio said no`);

    const dry = await cli(['dlq', 'replay', '--dry-run'], env);
    expect(dry.out).toContain('would replay 1 record(s)');
    expect(await recordCount(topics.egress)).toBe(0);

    const replay = await cli(['dlq', 'replay', '--request', request.id], env);
    expect(replay).toMatchObject({ code: 0 });
    expect(replay.out).toContain('replayed 1 record(s)');
    expect(await recordCount(topics.egress)).toBe(1);

    expect((await cli(['dlq', 'purge'], env)).code).toBe(2);
  }, 60_000);
});

describe('ingress-egress messages', () => {
  it('gets and lists messages from Twilio with numbers masked', async () => {
    const sim = new TwilioSimulator({ accounts: [{ accountSid: ACCOUNT, authToken: 'cli-token-0123456789' }] });
    await sim.start();
    onCleanup(() => sim.stop());
    const client = (await import('../../helpers/simulator-client')).createSimulatorTwilioClient(sim);
    const m = await client.messages.create({ to: '+14155550123', from: '+15005550006', body: 'hi' });
    const env = { ...sim.env(), KAFKA_BROKERS: 'unused:9092', TWILIO_ENABLED: 'false' };
    const got = await cli(['messages', 'get', m.sid], env);
    expect(got).toMatchObject({ code: 0, err: '' });
    expect(got.out).toContain(m.sid);
    expect(got.out).not.toContain('4155550123');
    const listed = await cli(['messages', 'list', '--to', '+14155550123', '--json', '--show-numbers'], env);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ sid: m.sid, to: '+14155550123' })]);
  });
});
