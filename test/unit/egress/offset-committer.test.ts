import type { Consumer } from 'kafkajs';
import { OffsetCommitter } from '../../../src/egress/offset-committer';
import { createMetrics, silentLogger } from '../../../src/observability';

function consumerRecording(fail?: (offset: string) => Error | undefined) {
  const commits: string[] = [];
  const consumer = {
    commitOffsets: async ([o]: { offset: string }[]) => {
      const err = fail?.(o!.offset);
      if (err) throw err;
      commits.push(o!.offset);
    },
  } as unknown as Consumer;
  return { consumer, commits };
}

describe('OffsetCommitter', () => {
  it('commits in order per partition and never backwards, and sets the lag', async () => {
    const { consumer, commits } = consumerRecording();
    const metrics = createMetrics({ defaultMetrics: false });
    const c = new OffsetCommitter({
      topic: 'sms.egress',
      consumer: () => consumer,
      logger: silentLogger,
      metrics,
      onCoordinatorGone: () => undefined,
    });
    await Promise.all([c.commit(0, '5', '10'), c.commit(0, '3', '10'), c.commit(0, '7', '10')]);
    expect(commits).toEqual(['5', '7']);
    expect(c.commits).toBe(2);
    const lag = (await metrics.kafkaConsumerLag.get()).values.find((v) => v.labels.partition === '0');
    expect(lag?.value).toBe(3);
  });

  it('a failed commit is left (never rejects); a vanished coordinator is reported', async () => {
    const gone = Object.assign(new Error('Broker 1 not found'), { name: 'KafkaJSBrokerNotFound' });
    const { consumer, commits } = consumerRecording((o) => (o === '2' ? gone : undefined));
    const reported: unknown[] = [];
    const c = new OffsetCommitter({
      topic: 't',
      consumer: () => consumer,
      logger: silentLogger,
      onCoordinatorGone: (err) => void reported.push(err),
    });
    await expect(c.commit(1, '2', '2')).resolves.toBeUndefined();
    await c.commit(1, '2', '2');
    expect(commits).toEqual([]);
    expect(reported).toEqual([gone, gone]);
    await c.commit(1, '4', '4');
    expect(commits).toEqual(['4']);
  });

  it('the lag follows the topic while nothing is committed (a stalled consumer), from the last commit', async () => {
    const { consumer } = consumerRecording();
    const metrics = createMetrics({ defaultMetrics: false });
    const c = new OffsetCommitter({
      topic: 'sms.egress',
      consumer: () => consumer,
      logger: silentLogger,
      metrics,
      onCoordinatorGone: () => undefined,
    });
    const lag = async (partition: string) =>
      (await metrics.kafkaConsumerLag.get()).values.find((v) => v.labels.partition === partition)?.value;
    await c.commit(0, '10', '10');
    expect(await lag('0')).toBe(0);
    // Records keep arriving while the consumer commits nothing (circuit open, consumer down).
    c.refreshLag([
      { partition: 0, high: '250' },
      { partition: 1, high: '7' },
    ]);
    expect(await lag('0')).toBe(240);
    // Partition 1 never committed here: not this instance's to report.
    expect(await lag('1')).toBeUndefined();
    await c.commit(0, '250', '250');
    expect(await lag('0')).toBe(0);
  });
});
