import { ProduceBatcher, type OutgoingRecord, type ProduceBatcherOptions } from '../../../src/kafka/produce-batcher';
import type { PublishedRecord } from '../../../src/connector/event-publisher-port';

interface Call {
  records: readonly OutgoingRecord[];
  resolve: (r: PublishedRecord[]) => void;
  reject: (e: unknown) => void;
}

function harness(overrides: Partial<ProduceBatcherOptions> = {}) {
  const calls: Call[] = [];
  let clock = 0;
  const batcher = new ProduceBatcher({
    send: (records) => new Promise((resolve, reject) => calls.push({ records, resolve, reject })),
    maxBatchRecords: 3,
    lingerMs: 5,
    maxQueuedRecords: 100,
    timeoutMs: 1000,
    timeoutError: (sent) => Object.assign(new Error(sent ? 'timeout after send' : 'timeout before send'), { sent }),
    overflowError: (n) => new Error(`overflow ${n}`),
    now: () => clock,
    ...overrides,
  });
  const rec = (n: number): OutgoingRecord => ({ topic: 't', message: { key: String(n), value: Buffer.from([n]) } });
  const ack = (call: Call) =>
    call.resolve(call.records.map((r, i) => ({ topic: r.topic, partition: 0, offset: String(i) })));
  const advance = async (ms: number) => {
    clock += ms;
    await jest.advanceTimersByTimeAsync(ms);
  };
  return { batcher, calls, rec, ack, advance };
}

describe('ProduceBatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('coalesces concurrent records into one send and gives each its own result', async () => {
    const { batcher, calls, rec, ack, advance } = harness();
    const a = batcher.add(rec(1));
    const b = batcher.add(rec(2));
    expect(calls).toHaveLength(0);
    await advance(5);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.records.map((r) => r.message.key)).toEqual(['1', '2']);
    ack(calls[0]!);
    await expect(a).resolves.toEqual({ topic: 't', partition: 0, offset: '0' });
    await expect(b).resolves.toEqual({ topic: 't', partition: 0, offset: '1' });
  });

  it('sends at once when a batch is full, and keeps one batch in flight', async () => {
    const { batcher, calls, rec, ack, advance } = harness();
    const results = [1, 2, 3, 4, 5].map((n) => batcher.add(rec(n)));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.records).toHaveLength(3);
    await advance(50);
    // Records 4 and 5 wait for the first batch, however long it takes.
    expect(calls).toHaveLength(1);
    ack(calls[0]!);
    await advance(5);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.records.map((r) => r.message.key)).toEqual(['4', '5']);
    ack(calls[1]!);
    await expect(Promise.all(results)).resolves.toHaveLength(5);
  });

  it('with lingerMs 0 sends at the end of the event-loop turn', async () => {
    const { batcher, calls, rec } = harness({ lingerMs: 0, maxBatchRecords: 100 });
    void batcher.add(rec(1));
    void batcher.add(rec(2));
    expect(calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.records).toHaveLength(2);
  });

  it('rejects every record of a failed batch with the error, then carries on', async () => {
    const { batcher, calls, rec, ack, advance } = harness();
    const a = batcher.add(rec(1));
    const b = batcher.add(rec(2));
    await advance(5);
    const boom = new Error('broker gone');
    calls[0]!.reject(boom);
    await expect(a).rejects.toBe(boom);
    await expect(b).rejects.toBe(boom);
    const c = batcher.add(rec(3));
    await advance(5);
    ack(calls[1]!);
    await expect(c).resolves.toMatchObject({ offset: '0' });
  });

  it('rejects the batch when send returns the wrong number of results', async () => {
    const { batcher, calls, rec, advance } = harness();
    const a = batcher.add(rec(1));
    await advance(5);
    calls[0]!.resolve([]);
    await expect(a).rejects.toThrow('send returned 0 results for 1 records');
  });

  it('rejects a send that throws synchronously', async () => {
    const { batcher, rec, advance } = harness({
      send: () => {
        throw new Error('sync');
      },
    });
    const a = batcher.add(rec(1)).catch((e: unknown) => e);
    await advance(5);
    expect(await a).toMatchObject({ message: 'sync' });
  });

  it('times out a record that was never sent, without sending it later', async () => {
    const { batcher, calls, rec, advance } = harness();
    batcher.pause();
    const a = batcher.add(rec(1));
    const failure = a.catch((e: unknown) => e);
    await advance(999);
    await advance(1);
    expect(await failure).toMatchObject({ sent: false, message: 'timeout before send' });
    batcher.resume();
    await advance(5);
    expect(calls).toHaveLength(0);
    expect(batcher.queued).toBe(0);
  });

  it('times out a record in flight as "may still be written", and ignores the late ack', async () => {
    const { batcher, calls, rec, ack, advance } = harness();
    const a = batcher.add(rec(1));
    const failure = a.catch((e: unknown) => e);
    await advance(5);
    expect(calls).toHaveLength(1);
    await advance(1000);
    expect(await failure).toMatchObject({ sent: true });
    ack(calls[0]!);
    await advance(5);
    // The next record is sent normally.
    const b = batcher.add(rec(2));
    await advance(5);
    ack(calls[1]!);
    await expect(b).resolves.toMatchObject({ offset: '0' });
  });

  it('applies each record its own deadline', async () => {
    const { batcher, rec, advance } = harness();
    batcher.pause();
    const early = batcher.add(rec(1)).catch((e: unknown) => e);
    await advance(600);
    let lateSettled = false;
    const late = batcher
      .add(rec(2))
      .catch((e: unknown) => e)
      .finally(() => (lateSettled = true));
    await advance(400);
    expect(await early).toBeInstanceOf(Error);
    expect(lateSettled).toBe(false);
    await advance(600);
    expect(await late).toBeInstanceOf(Error);
  });

  it('refuses records beyond maxQueuedRecords', async () => {
    const { batcher, rec } = harness({ maxQueuedRecords: 2 });
    batcher.pause();
    void batcher.add(rec(1)).catch(() => undefined);
    void batcher.add(rec(2)).catch(() => undefined);
    await expect(batcher.add(rec(3))).rejects.toThrow('overflow 2');
    batcher.failQueued(new Error('cleanup'));
  });

  it('failQueued rejects waiting records but not the batch in flight', async () => {
    const { batcher, calls, rec, ack, advance } = harness({ maxBatchRecords: 1 });
    const inFlight = batcher.add(rec(1));
    const waiting = batcher.add(rec(2));
    expect(calls).toHaveLength(1);
    const stop = new Error('stopping');
    // It says how many it failed, so a stop can log what it could not flush.
    expect(batcher.failQueued(stop)).toBe(1);
    await expect(waiting).rejects.toBe(stop);
    const notSending = batcher.whenNotSending();
    ack(calls[0]!);
    await notSending;
    await expect(inFlight).resolves.toMatchObject({ offset: '0' });
    await advance(5);
    expect(calls).toHaveLength(1);
  });

  it('counts the records of the batch in flight that still wait for their acknowledgement', async () => {
    const { batcher, calls, rec, ack } = harness({ maxBatchRecords: 2 });
    expect(batcher.unacknowledgedInFlight).toBe(0);
    const sent = [batcher.add(rec(1)), batcher.add(rec(2))];
    expect(calls).toHaveLength(1);
    // A stop that gives up on Kafka while these are in flight has not flushed them either.
    expect(batcher.unacknowledgedInFlight).toBe(2);
    ack(calls[0]!);
    await Promise.all(sent);
    expect(batcher.unacknowledgedInFlight).toBe(0);
  });

  it('drain() sends what is queued without lingering, even when paused', async () => {
    const { batcher, calls, rec, ack } = harness({ lingerMs: 10_000 });
    batcher.pause();
    const a = batcher.add(rec(1));
    const drained = batcher.drain();
    expect(calls).toHaveLength(1);
    ack(calls[0]!);
    await drained;
    await expect(a).resolves.toMatchObject({ offset: '0' });
  });

  it('whenDrained resolves once the queue is empty and nothing is in flight', async () => {
    const { batcher, calls, rec, ack, advance } = harness();
    await batcher.whenDrained();
    const a = batcher.add(rec(1));
    let drained = false;
    const d = batcher.whenDrained().then(() => (drained = true));
    await advance(5);
    expect(drained).toBe(false);
    ack(calls[0]!);
    await a;
    await d;
    expect(drained).toBe(true);
  });
});
