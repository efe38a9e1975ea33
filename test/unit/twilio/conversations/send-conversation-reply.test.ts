import { sendConversationReply } from '../../../../src/twilio/conversations/send-conversation-reply';
import { conversationSid } from './fakes';
import { FakeRest } from './rest-fakes';

describe('sendConversationReply', () => {
  const deps = (rest: FakeRest) => ({
    rest,
    identity: 'bot',
    fetchMedia: async (url: string) => ({
      bytes: new Uint8Array(10),
      contentType: 'image/png',
      filename: url.split('/').pop(),
    }),
  });

  it('posts the reply authored by the identity (so the ingress skips it when it comes back)', async () => {
    const rest = new FakeRest();
    const r = await sendConversationReply(deps(rest), { conversationSid: conversationSid(1), body: 'Thanks!' });
    expect(r).toEqual({
      ok: true,
      conversationSid: conversationSid(1),
      messageSid: 'IM' + '1'.padStart(32, '0'),
      index: 0,
    });
    expect(rest.messages).toEqual([{ conversationSid: conversationSid(1), author: 'bot', body: 'Thanks!' }]);
  });

  it('uploads one media URL and attaches it', async () => {
    const rest = new FakeRest();
    const r = await sendConversationReply(deps(rest), {
      conversationSid: conversationSid(1),
      mediaUrls: ['https://example.com/cat.png'],
    });
    expect(r.ok).toBe(true);
    expect(rest.uploads).toEqual([{ size: 10, contentType: 'image/png', filename: 'cat.png' }]);
    expect(rest.messages[0]).toMatchObject({ author: 'bot', mediaSid: 'ME' + '1'.padStart(32, '0') });
    expect(rest.messages[0]).not.toHaveProperty('body');
  });

  it('refuses empty replies and more than one media URL without calling Twilio', async () => {
    const rest = new FakeRest();
    expect(await sendConversationReply(deps(rest), { conversationSid: conversationSid(1), body: '' })).toMatchObject({
      ok: false,
      code: 'empty_message',
    });
    expect(
      await sendConversationReply(deps(rest), {
        conversationSid: conversationSid(1),
        mediaUrls: ['https://a/1', 'https://a/2'],
      }),
    ).toMatchObject({ ok: false, code: 'too_many_media' });
    expect(rest.calls).toEqual([]);
  });

  it('returns Twilio refusals as values and throws what is worth retrying', async () => {
    const rest = new FakeRest();
    rest.failures.push(FakeRest.error(404, 20404));
    expect(await sendConversationReply(deps(rest), { conversationSid: conversationSid(1), body: 'x' })).toMatchObject({
      ok: false,
      code: 'twilio_rejected',
      twilioErrorCode: 20404,
    });
    rest.failures.push(FakeRest.error(503));
    await expect(
      sendConversationReply(deps(rest), { conversationSid: conversationSid(1), body: 'x' }),
    ).rejects.toMatchObject({
      retriable: true,
    });
  });
});
