import { DeliveryDeduplicator } from '../../../../src/twilio/webhooks/delivery-deduplicator';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('DeliveryDeduplicator', () => {
  let now = 0;
  const make = (maxEntries = 100, windowMs = 1000) =>
    new DeliveryDeduplicator<string>({ windowMs, maxEntries, clock: { now: () => now } });
  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets a repeat that arrives while the first is in flight share its result', async () => {
    const d = make();
    const first = deferred<string>();
    const work = jest.fn(() => first.promise);
    const a = d.run(['k'], work);
    const b = d.run(['k'], work);
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(work).toHaveBeenCalledTimes(1);
    first.resolve('acked');
    await expect(b.result).resolves.toBe('acked');
  });

  it('shares a failure with concurrent repeats, then forgets it so a retry runs the work again', async () => {
    const d = make();
    const first = deferred<string>();
    const a = d.run(['k'], () => first.promise);
    const b = d.run(['k'], () => Promise.resolve('never'));
    first.reject(new Error('kafka down'));
    await expect(a.result).rejects.toThrow('kafka down');
    await expect(b.result).rejects.toThrow('kafka down');
    const retry = d.run(['k'], () => Promise.resolve('second'));
    expect(retry.duplicate).toBe(false);
    await expect(retry.result).resolves.toBe('second');
  });

  it('suppresses repeats after success within the window, not after it', async () => {
    const d = make(100, 1000);
    await d.run(['k'], async () => 'one').result;
    await flush();
    now += 999;
    expect(d.run(['k'], async () => 'two').duplicate).toBe(true);
    now += 1;
    const late = d.run(['k'], async () => 'three');
    expect(late.duplicate).toBe(false);
    await expect(late.result).resolves.toBe('three');
  });

  it('treats a hit on any alias key (idempotency token or message key) as a repeat', async () => {
    const d = make();
    await d.run(['msg|1', 'token|abc'], async () => 'x').result;
    await flush();
    expect(d.run(['msg|2', 'token|abc'], async () => 'y').duplicate).toBe(true);
    expect(d.run(['msg|1', 'token|zzz'], async () => 'y').duplicate).toBe(true);
    expect(d.run(['msg|3', 'token|new'], async () => 'y').duplicate).toBe(false);
  });

  it('stays within maxEntries, forgetting the oldest first', async () => {
    const d = make(10, 60_000);
    for (let i = 0; i < 50; i++) {
      await d.run([`k${i}`], async () => 'v').result;
      now += 1;
    }
    await flush();
    expect(d.size).toBeLessThanOrEqual(10);
    expect(d.run(['k49'], async () => 'v').duplicate).toBe(true);
    expect(d.run(['k0'], async () => 'v').duplicate).toBe(false);
  });

  it('drops expired entries from memory on a later sweep, not only when full', async () => {
    const d = make(1000, 1000);
    for (let i = 0; i < 20; i++) await d.run([`k${i}`], async () => 'v').result;
    await flush();
    expect(d.size).toBe(20);
    now += 1000;
    await d.run(['late'], async () => 'v').result;
    await flush();
    expect(d.size).toBe(1);
  });
});
