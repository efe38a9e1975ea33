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

  it('a commit without a live consumer (one being replaced) is not taken as made: the offset goes through the next one', async () => {
    const { consumer, commits } = consumerRecording();
    let live: Consumer | undefined = undefined;
    const c = new OffsetCommitter({
      topic: 't',
      consumer: () => live,
      logger: silentLogger,
      onCoordinatorGone: () => undefined,
    });
    await c.commit(0, '5', '9');
    expect(c.commits).toBe(0);
    live = consumer;
    await c.commit(0, '5', '9');
    expect(commits).toEqual(['5']);
  });

  it('reset() forgets what it committed: after a join the group’s committed offsets are the truth', async () => {
    const { consumer, commits } = consumerRecording();
    const c = new OffsetCommitter({
      topic: 't',
      consumer: () => consumer,
      logger: silentLogger,
      onCoordinatorGone: () => undefined,
    });
    await c.commit(0, '5', '9');
    await c.commit(0, '5', '9');
    expect(c.snapshot()).toEqual({ 0: { committed: '5', queued: 0 } });
    c.reset();
    await c.commit(0, '5', '9');
    expect(commits).toEqual(['5', '5']);
  });

  it('gives up a commit that does not answer within commitTimeoutMs, so the partition’s next commits go on', async () => {
    const commits: string[] = [];
    const consumer = {
      commitOffsets: ([o]: { offset: string }[]) => {
        if (o!.offset === '2') return new Promise(() => undefined);
        commits.push(o!.offset);
        return Promise.resolve();
      },
    } as unknown as Consumer;
    const c = new OffsetCommitter({
      topic: 't',
      consumer: () => consumer,
      logger: silentLogger,
      onCoordinatorGone: () => undefined,
      commitTimeoutMs: 50,
    });
    void c.commit(0, '2', '9');
    await c.commit(0, '4', '9');
    expect(commits).toEqual(['4']);
    expect(c.commits).toBe(1);
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
