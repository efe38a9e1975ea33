import { ConversationRegistry } from '../../../../src/twilio/conversations/conversation-registry';
import type { ConversationMessage } from '../../../../src/twilio/conversations/conversations-adapter';
import { conversationSid, flush, memoryLogger, msg } from './fakes';

function setup(history: ConversationMessage[] = []) {
  const handled: string[] = [];
  const left: string[] = [];
  const order: string[] = [];
  const { logger } = memoryLogger();
  const registry = new ConversationRegistry({
    track: {
      handle: async (m) => void handled.push(`${m.conversationSid}#${m.index}`),
      fetchAfter: async (sid, after) => history.filter((m) => m.conversationSid === sid && m.index > (after ?? -1)),
      checkpointed: () => undefined,
      backoff: async () => undefined,
      stopping: () => false,
    },
    logger,
    leave: async (sid) => {
      order.push('leave');
      left.push(sid);
    },
    beforeLeave: async () => void order.push('flush'),
  });
  return { registry, handled, left, order };
}

describe('ConversationRegistry', () => {
  it('backfills a joined conversation after its read horizon and takes live messages in order', async () => {
    const { registry, handled } = setup([msg(1, 0), msg(1, 1), msg(1, 2)]);
    registry.joined({ sid: conversationSid(1), lastReadMessageIndex: 0, state: 'active' });
    await registry.settled();
    registry.offer(msg(1, 3));
    await registry.settled();
    expect(handled).toEqual([1, 2, 3].map((i) => `${conversationSid(1)}#${i}`));
    expect(registry.size).toBe(1);
    expect(registry.checkpoints()).toEqual({ [conversationSid(1)]: 3 });
  });

  it('a message from a conversation not yet seen creates its track', async () => {
    const { registry, handled } = setup();
    registry.offer(msg(2, 0));
    await registry.settled();
    expect(handled).toEqual([`${conversationSid(2)}#0`]);
  });

  it('leaves a closed conversation once drained, after flushing the read horizons', async () => {
    const { registry, left, order } = setup([msg(3, 0)]);
    registry.joined({ sid: conversationSid(3), lastReadMessageIndex: null, state: 'closed' });
    await registry.settled();
    await flush();
    expect(left).toEqual([conversationSid(3)]);
    expect(order).toEqual(['flush', 'leave']);
    expect(registry.size).toBe(0);
  });
});
