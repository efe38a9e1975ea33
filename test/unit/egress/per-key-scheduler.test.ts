import type { KafkaMessage } from 'kafkajs';
import { byKey, runPerKey } from '../../../src/egress/per-key-scheduler';
import { Semaphore } from '../../../src/resilience';

const rec = (offset: number, key: string | null): KafkaMessage =>
  ({ offset: String(offset), key: key === null ? null : Buffer.from(key), value: null }) as unknown as KafkaMessage;

describe('byKey', () => {
  it('groups by key in offset order; a record without a key is a group of its own', () => {
    const groups = byKey([rec(0, 'a'), rec(1, 'b'), rec(2, 'a'), rec(3, null), rec(4, null)]);
    expect([...groups.values()].map((g) => g.map((m) => m.offset))).toEqual([['0', '2'], ['1'], ['3'], ['4']]);
  });
});

describe('runPerKey', () => {
  it('runs keys in parallel, one key in order, never more than the slots at once', async () => {
    const slots = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const finished: string[] = [];
    await runPerKey([rec(0, 'a'), rec(1, 'b'), rec(2, 'a'), rec(3, 'c'), rec(4, 'a')], {
      slots,
      stop: () => false,
      run: async (m) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        order.push(`${m.key!.toString()}${m.offset}`);
        running--;
        return true;
      },
      finished: (m) => void finished.push(m.offset),
    });
    expect(peak).toBe(2);
    expect(order.filter((o) => o.startsWith('a'))).toEqual(['a0', 'a2', 'a4']);
    expect(finished.sort()).toEqual(['0', '1', '2', '3', '4']);
  });

  it("a record left unfinished ends its key's run; stop() takes no new record", async () => {
    const ran: string[] = [];
    await runPerKey([rec(0, 'a'), rec(1, 'a'), rec(2, 'b')], {
      slots: new Semaphore(1),
      stop: () => false,
      run: async (m) => {
        ran.push(m.offset);
        return m.offset !== '0';
      },
      finished: () => undefined,
    });
    expect(ran.sort()).toEqual(['0', '2']);

    const none: string[] = [];
    await runPerKey([rec(0, 'a')], {
      slots: new Semaphore(1),
      stop: () => true,
      run: async (m) => {
        none.push(m.offset);
        return true;
      },
      finished: () => undefined,
    });
    expect(none).toEqual([]);
  });
});
