import { Lifecycle } from '../../../src/common/lifecycle';

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: Error): void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Lifecycle', () => {
  it('shares one start and one stop between concurrent callers', async () => {
    let starts = 0;
    let stops = 0;
    const l = new Lifecycle(
      'part',
      async () => void starts++,
      async () => void stops++,
    );
    await Promise.all([l.start(), l.start()]);
    expect(l.state).toBe('running');
    await Promise.all([l.stop(), l.stop()]);
    expect([starts, stops, l.state]).toEqual([1, 1, 'stopped']);
    await expect(l.start()).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
  });

  it('a stop during start waits for the start, then stops', async () => {
    const gate = deferred();
    const order: string[] = [];
    const l = new Lifecycle(
      'part',
      async () => {
        await gate.promise;
        order.push('started');
      },
      async () => void order.push('stopped'),
    );
    const started = l.start();
    const stopped = l.stop();
    gate.resolve();
    await Promise.all([started, stopped]);
    expect(order).toEqual(['started', 'stopped']);
  });

  it('a failed start is final by default, and tried again with retryFailedStart', async () => {
    let attempts = 0;
    const failing = async () => {
      attempts++;
      if (attempts < 2) throw new Error('broker down');
    };
    const once = new Lifecycle('part', failing, async () => undefined);
    await expect(once.start()).rejects.toThrow('broker down');
    await expect(once.start()).rejects.toThrow('broker down');
    expect(attempts).toBe(1);
    expect(once.state).toBe('failed');

    attempts = 0;
    const retrying = new Lifecycle('part', failing, async () => undefined, { retryFailedStart: true });
    await expect(retrying.start()).rejects.toThrow('broker down');
    await expect(retrying.start()).resolves.toBeUndefined();
    expect(retrying.state).toBe('running');
  });

  it('onStopRequested runs at once, so a long start can give up', async () => {
    const catchUp = deferred();
    const l = new Lifecycle(
      'loader',
      () => catchUp.promise,
      async () => undefined,
      { onStopRequested: () => catchUp.reject(new Error('stopped before it caught up')) },
    );
    const started = l.start();
    await l.stop();
    await expect(started).rejects.toThrow('stopped before it caught up');
    expect(l.state).toBe('stopped');
  });
});
