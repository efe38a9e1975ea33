import type { ConversationMessage } from '../../../../src/twilio/conversations/conversations-adapter';
import { ConversationTrack, type TrackDeps } from '../../../../src/twilio/conversations/conversation-track';
import { conversationSid, deferred, flush, msg } from './fakes';

function track(checkpoint: number | null, over: Partial<TrackDeps> = {}) {
  const handled: number[] = [];
  const checkpoints: number[] = [];
  const fetches: (number | null)[] = [];
  let stopping = false;
  const deps: TrackDeps = {
    handle: async (m) => void handled.push(m.index),
    fetchAfter: async (_sid, after) => {
      fetches.push(after);
      return [];
    },
    checkpointed: (_sid, i) => void checkpoints.push(i),
    backoff: async () => undefined,
    stopping: () => stopping,
    fetchFailed: () => undefined,
    ...over,
  };
  const t = new ConversationTrack(conversationSid(1), checkpoint, deps);
  return { t, handled, checkpoints, fetches, stop: () => (stopping = true) };
}

describe('ConversationTrack', () => {
  it('drops anything at or below the checkpoint, even a message it never saw (no SID memory needed)', async () => {
    const { t, handled, checkpoints } = track(5);
    t.offer(msg(1, 3));
    t.offer(msg(1, 5));
    t.offer(msg(1, 6));
    t.offer(msg(1, 6));
    await t.settled();
    expect(handled).toEqual([6]);
    expect(checkpoints).toEqual([6]);
    expect(t.checkpoint).toBe(6);
  });

  it('seeding only raises the checkpoint', () => {
    const { t } = track(5);
    t.seed(3);
    t.seed(null);
    expect(t.checkpoint).toBe(5);
    t.seed(9);
    expect(t.checkpoint).toBe(9);
  });

  it('handles one message at a time, in the order taken in', async () => {
    const gates = new Map<number, ReturnType<typeof deferred<void>>>();
    const order: string[] = [];
    const { t } = track(null, {
      handle: async (m: ConversationMessage) => {
        order.push(`start ${m.index}`);
        const g = deferred<void>();
        gates.set(m.index, g);
        await g.promise;
        order.push(`end ${m.index}`);
      },
    });
    t.offer(msg(1, 0));
    t.offer(msg(1, 1));
    await flush();
    expect(order).toEqual(['start 0']);
    gates.get(0)!.resolve();
    await flush();
    expect(order).toEqual(['start 0', 'end 0', 'start 1']);
    gates.get(1)!.resolve();
    await t.settled();
  });

  it('keeps live messages behind a running backfill, then takes them in index order', async () => {
    const page = deferred<ConversationMessage[]>();
    const { t, handled } = track(null, { fetchAfter: () => page.promise });
    const done = t.backfill();
    t.offer(msg(1, 4));
    t.offer(msg(1, 3));
    await flush();
    expect(handled).toEqual([]);
    page.resolve([msg(1, 1), msg(1, 2), msg(1, 3)]);
    await done;
    await t.settled();
    expect(handled).toEqual([1, 2, 3, 4]);
  });

  it('a backfill asked for while one runs goes round once more, from where the first ended', async () => {
    const pages = [deferred<ConversationMessage[]>(), deferred<ConversationMessage[]>()];
    const fetches: (number | null)[] = [];
    const { t, handled } = track(null, {
      fetchAfter: (_s, after) => {
        fetches.push(after);
        return pages[fetches.length - 1]!.promise;
      },
    });
    const first = t.backfill();
    void t.backfill();
    pages[0]!.resolve([msg(1, 0), msg(1, 1)]);
    await flush();
    pages[1]!.resolve([msg(1, 2)]);
    await first;
    await t.settled();
    expect(fetches).toEqual([null, 1]);
    expect(handled).toEqual([0, 1, 2]);
  });

  it('restart abandons the fetch in flight and asks again at once', async () => {
    let calls = 0;
    const { t, handled } = track(null, {
      fetchAfter: (_s, _after, signal) => {
        calls++;
        if (calls === 1) {
          return new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(new Error('abandoned'))),
          );
        }
        return Promise.resolve([msg(1, 0)]);
      },
    });
    const done = t.backfill();
    await flush();
    void t.backfill({ restart: true });
    await done;
    await t.settled();
    expect(calls).toBe(2);
    expect(handled).toEqual([0]);
  });

  it('halts at the first message it could not handle (stopping): nothing after it moves the checkpoint', async () => {
    const { t, checkpoints } = track(null, {
      handle: async (m) => {
        if (m.index === 1) throw new Error('stopped');
      },
    });
    t.offer(msg(1, 0));
    t.offer(msg(1, 1));
    t.offer(msg(1, 2));
    await t.settled();
    expect(checkpoints).toEqual([0]);
    expect(t.checkpoint).toBe(0);
  });
});
