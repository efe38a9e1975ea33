import { readTwiml } from '../../src/twiml-reader';

describe('readTwiml', () => {
  it('reads verbs in order with attributes, text and nouns, entities decoded', () => {
    const r = readTwiml(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi &amp; bye</Say><Dial timeout="20" action="/d?a=1&amp;b=2"><Number>+14155550199</Number><Number>+14155550198</Number></Dial><Hangup/></Response>',
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.verbs.map((v) => v.name)).toEqual(['Say', 'Dial', 'Hangup']);
    expect(r.verbs[0]).toMatchObject({ attrs: { voice: 'alice' }, text: 'Hi & bye' });
    expect(r.verbs[1]?.attrs).toEqual({ timeout: '20', action: '/d?a=1&b=2' });
    expect(r.verbs[1]?.children.map((c) => c.text)).toEqual(['+14155550199', '+14155550198']);
  });

  it('refuses what is not TwiML', () => {
    expect(readTwiml('<Response><Say>')).toMatchObject({ ok: false });
    expect(readTwiml('<Foo/>')).toMatchObject({ ok: false, reason: expect.stringContaining('<Response>') });
    expect(readTwiml('')).toMatchObject({ ok: false });
  });
});
