import type { Consumer, ConsumerConfig, ConsumerRunConfig, Kafka } from 'kafkajs';

/**
 * A kafkajs consumer whose disconnect() really stops it.
 *
 * kafkajs ignores a disconnect() that arrives while the consumer is joining
 * its group, whether at run() or at a restart after a crash
 * (tulios/kafkajs#1639, #1147): the join goes on without it, and the consumer
 * then either consumes with nobody left to stop it, or crashes and restarts
 * itself forever on a timer that keeps the process alive. So here:
 *
 * - disconnect() first lets a join under way settle (kafkajs bounds it with
 *   its retries), then disconnects, when kafkajs can stop the consumer;
 * - once disconnecting, a crashed consumer is never restarted
 *   (`restartOnFailure` of the given config is asked only before that).
 *
 * The result is the kafkajs Consumer with `run` and `disconnect` replaced; a
 * disconnected consumer is not meant to run again.
 */
export function createStoppableConsumer(kafka: Kafka, config: ConsumerConfig): Consumer {
  const joins = new Set<Promise<void>>();
  let disconnecting: Promise<void> | undefined;
  // A crash the consumer restarts from opens a join that ends at the next GROUP_JOIN, or at a crash it is not restarted from.
  let rejoin: { done: Promise<void>; end: () => void } | undefined;
  const track = (join: Promise<unknown>) => {
    const settled = join.then(
      () => undefined,
      () => undefined,
    );
    joins.add(settled);
    void settled.then(() => joins.delete(settled));
  };
  const endRejoin = () => {
    rejoin?.end();
    rejoin = undefined;
  };

  const restartOnFailure = config.retry?.restartOnFailure;
  const consumer = kafka.consumer({
    ...config,
    retry: {
      // kafkajs's own default when a consumer is given no retry options.
      ...(config.retry ?? { retries: 5 }),
      restartOnFailure: async (err) => {
        if (disconnecting) return false;
        const restart = restartOnFailure ? await restartOnFailure(err) : true;
        if (!restart || disconnecting) return false;
        if (!rejoin) {
          let end = () => {};
          const done = new Promise<void>((resolve) => (end = resolve));
          rejoin = { done, end };
          track(done);
        }
        return true;
      },
    },
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // kafkajs marks the consumer running (stoppable) a few microtasks after this event.
    if (rejoin) setImmediate(endRejoin);
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if ((e.payload as { restart?: boolean }).restart !== true) endRejoin();
  });

  const run = (runConfig?: ConsumerRunConfig): Promise<void> => {
    const running = consumer.run(runConfig);
    track(running);
    return running;
  };

  const disconnect = (): Promise<void> => {
    disconnecting ??= (async () => {
      while (joins.size > 0) await Promise.all([...joins]);
      await consumer.disconnect();
    })();
    return disconnecting;
  };

  return { ...consumer, run, disconnect };
}
