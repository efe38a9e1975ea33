import { ConversationMembership } from '../../../../src/twilio/conversations/conversation-membership';
import { ConversationsRestError } from '../../../../src/twilio/conversations/conversations-rest';
import { conversationSid, memoryLogger } from './fakes';
import { FakeRest } from './rest-fakes';

describe('ConversationMembership', () => {
  const setup = () => {
    const rest = new FakeRest();
    const { logger, lines } = memoryLogger();
    return { rest, lines, membership: new ConversationMembership(rest, 'bot', logger) };
  };

  it('joins as the identity; an existing participant (50433) counts as joined; a vanished conversation is gone', async () => {
    const { rest, membership } = setup();
    expect(await membership.join(conversationSid(1))).toBe('joined');
    expect(rest.calls).toEqual([`add ${conversationSid(1)} bot`]);
    rest.failures.push(FakeRest.error(409, 50433));
    expect(await membership.join(conversationSid(1))).toBe('already');
    rest.failures.push(FakeRest.error(404, 20404));
    expect(await membership.join(conversationSid(2))).toBe('gone');
  });

  it('throws a retriable error for 5xx and network failures, a permanent one for other 4xx', async () => {
    const { rest, membership } = setup();
    rest.failures.push(FakeRest.error(503));
    await expect(membership.join(conversationSid(1))).rejects.toMatchObject({ retriable: true });
    rest.failures.push(FakeRest.error(undefined));
    await expect(membership.join(conversationSid(1))).rejects.toMatchObject({ retriable: true });
    rest.failures.push(FakeRest.error(400, 50100));
    await expect(membership.join(conversationSid(1))).rejects.toMatchObject({ retriable: false });
  });

  it('at the 1,000-conversation limit (50214) leaves closed conversations and joins again', async () => {
    const { rest, membership } = setup();
    rest.memberships.push(
      { conversationSid: conversationSid(7), participantSid: 'MB' + '7'.repeat(32), state: 'closed' },
      { conversationSid: conversationSid(8), participantSid: 'MB' + '8'.repeat(32), state: 'active' },
    );
    rest.failures.push(FakeRest.error(400, 50214));
    expect(await membership.join(conversationSid(1))).toBe('joined');
    expect(rest.calls).toEqual([
      `add ${conversationSid(1)} bot`,
      'list bot',
      `remove ${conversationSid(7)} ${'MB' + '7'.repeat(32)}`,
      `add ${conversationSid(1)} bot`,
    ]);
    expect(rest.memberships.map((m) => m.conversationSid)).toEqual([conversationSid(8), conversationSid(1)]);
  });

  it('at the limit with nothing closed, fails with a clear error', async () => {
    const { rest, lines, membership } = setup();
    rest.failures.push(FakeRest.error(400, 50214));
    await expect(membership.join(conversationSid(1))).rejects.toBeInstanceOf(ConversationsRestError);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('50214'))).toBe(true);
  });

  it('leaves by participant SID, looking it up when it did not join in this process; twice is fine', async () => {
    const { rest, membership } = setup();
    rest.memberships.push({
      conversationSid: conversationSid(3),
      participantSid: 'MB' + '3'.repeat(32),
      state: 'closed',
    });
    await membership.leave(conversationSid(3));
    await membership.leave(conversationSid(3));
    expect(rest.calls.filter((c) => c.startsWith('remove'))).toEqual([
      `remove ${conversationSid(3)} ${'MB' + '3'.repeat(32)}`,
    ]);
  });
});
