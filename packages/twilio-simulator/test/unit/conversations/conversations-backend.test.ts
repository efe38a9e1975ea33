import { ConversationsBackend, SimRestError } from '../../../src/conversations/conversations-backend';
import { routeTunnelRequest } from '../../../src/conversations/tunnel-router';
import { SeededRng } from '../../../src/rng';

const backend = (limit?: number) =>
  new ConversationsBackend({
    accountSid: 'AC' + '1'.repeat(32),
    serviceSid: 'IS' + '2'.repeat(32),
    rng: new SeededRng(7),
    now: () => Date.UTC(2024, 0, 1),
    ...(limit !== undefined ? { identityConversationLimit: limit } : {}),
  });

const get = (b: ConversationsBackend, path: string, params: Record<string, string> = {}) =>
  routeTunnelRequest(b, 'bot', { host: 'cds.us1.twilio.com', path, method: 'GET', params, body: undefined });

describe('ConversationsBackend (simulator)', () => {
  it('projects a joined conversation into the Sync objects the SDK reads', () => {
    const b = backend();
    const c = b.createConversation({ friendlyName: 'support' });
    b.addParticipant(c.sid, { address: '+15550001111', proxyAddress: '+15559990000' });
    b.addParticipant(c.sid, { identity: 'bot' });
    const m = b.addMessage(c.sid, { author: '+15550001111', body: 'hi' });
    expect(m).toMatchObject({ index: 0, participantSid: expect.stringMatching(/^MB/) });
    const mine = routeTunnelRequest(b, 'bot', {
      host: 'aim.us1.twilio.com',
      path: '/Client/v2/Me/Conversations',
      method: 'GET',
      params: {},
      body: undefined,
    });
    expect(mine).toMatchObject({
      code: 200,
      body: { conversations: [{ conversation_sid: c.sid, status: 'joined', last_read_message_index: null }] },
    });
    expect(get(b, `/v3/Documents/${c.document.sid}`)).toMatchObject({
      code: 200,
      body: { data: { messages: c.messageList.sid, roster: c.roster.sid, state: { current: 'active' } } },
    });
    expect(get(b, `/v3/Lists/${c.messageList.sid}/Items`, { Order: 'asc', PageSize: '10' })).toMatchObject({
      code: 200,
      body: { items: [{ index: 0, data: { sid: m.sid, author: '+15550001111', text: 'hi', type: 'text' } }] },
    });
    expect(get(b, '/v3/Lists/ESnope')).toMatchObject({ code: 404 });
  });

  it('pages list items from an index, both directions, telling whether more exist', () => {
    const b = backend();
    const c = b.createConversation();
    for (let i = 0; i < 5; i++) b.addMessage(c.sid, { author: '+1555', body: String(i) });
    const page = (params: Record<string, string>) => {
      const r = get(b, `/v3/Lists/${c.messageList.sid}/Items`, params).body as {
        items: { index: number }[];
        meta: { next_token: string | null; previous_token: string | null };
      };
      return {
        idx: r.items.map((i) => i.index),
        next: r.meta.next_token !== null,
        prev: r.meta.previous_token !== null,
      };
    };
    expect(page({ From: '1', PageSize: '2', Order: 'asc' })).toEqual({ idx: [1, 2], next: true, prev: true });
    expect(page({ From: '3', PageSize: '5', Order: 'asc' })).toEqual({ idx: [3, 4], next: false, prev: true });
    expect(page({ PageSize: '2', Order: 'desc' })).toEqual({ idx: [4, 3], next: true, prev: false });
    expect(page({ Index: '2' })).toEqual({ idx: [2], next: false, prev: false });
  });

  it('records the read horizon in the participant and the user map', () => {
    const b = backend();
    const c = b.createConversation();
    b.addParticipant(c.sid, { identity: 'bot' });
    b.addMessage(c.sid, { author: '+1555', body: 'x' });
    b.setReadHorizon(c.sid, 'bot', 0);
    expect(b.participant(c.sid, 'bot').lastReadMessageIndex).toBe(0);
    expect(b.userMap('bot').items.get(c.sid)?.data).toMatchObject({ lastConsumedMessageIndex: 0 });
  });

  it('refuses a second identical participant (50433), the 1,001st conversation (50214) and messages to closed ones', () => {
    const b = backend(1);
    const c1 = b.createConversation();
    const c2 = b.createConversation();
    b.addParticipant(c1.sid, { identity: 'bot' });
    expect(() => b.addParticipant(c1.sid, { identity: 'bot' })).toThrow(
      expect.objectContaining({ body: expect.objectContaining({ code: 50433 }) }),
    );
    expect(() => b.addParticipant(c2.sid, { identity: 'bot' })).toThrow(
      expect.objectContaining({ body: expect.objectContaining({ code: 50214, status: 400 }) }),
    );
    b.setState(c1.sid, 'closed');
    expect(() => b.addMessage(c1.sid, { author: '+1', body: 'late' })).toThrow(SimRestError);
  });
});
