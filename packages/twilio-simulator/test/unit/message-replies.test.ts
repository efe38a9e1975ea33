import type { CreateDeps } from '../../src/create-message';
import { repliesFromTwiml } from '../../src/message-replies';
import { NumberDirectory } from '../../src/number-directory';
import { OptOutList } from '../../src/opt-out';
import { SeededRng } from '../../src/rng';

const A = 'AC' + 'a'.repeat(32);
const NUMBER = '+15017122661';
const CUSTOMER = '+15558675310';
const NOW = Date.UTC(2024, 0, 1);

function depsFor(optOuts = new OptOutList()): () => CreateDeps {
  let seq = 0;
  const rng = new SeededRng(1);
  return () => ({
    accountSid: A,
    now: NOW,
    seq: seq++,
    rng,
    numbers: new NumberDirectory([], [], A),
    optOuts,
    magicNumbers: true,
  });
}

const texted = { from: CUSTOMER, to: NUMBER };

describe('repliesFromTwiml: what Twilio sends for a messaging webhook’s TwiML answer', () => {
  it('sends each <Message> back from the number texted to the sender, as outbound-reply', () => {
    const r = repliesFromTwiml(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message>We are open 9 to 5.</Message><Message>Bye</Message></Response>',
      texted,
      depsFor(),
    );
    expect(r.refused).toEqual([]);
    expect(r.messages.map((m) => [m.direction, m.from, m.to, m.body, m.status])).toEqual([
      ['outbound-reply', NUMBER, CUSTOMER, 'We are open 9 to 5.', 'queued'],
      ['outbound-reply', NUMBER, CUSTOMER, 'Bye', 'queued'],
    ]);
    expect(new Set(r.messages.map((m) => m.sid)).size).toBe(2);
  });

  it('reads to/from/statusCallback attributes and the <Body> and <Media> nouns', () => {
    const other = '+15551230000';
    const [m] = repliesFromTwiml(
      `<Response><Message to="${other}" statusCallback="https://cb.example/s"><Body>See this</Body><Media>https://m.example/a.jpg</Media></Message></Response>`,
      texted,
      depsFor(),
    ).messages;
    expect(m).toMatchObject({
      to: other,
      from: NUMBER,
      body: 'See this',
      mediaUrls: ['https://m.example/a.jpg'],
      statusCallback: 'https://cb.example/s',
    });
    expect(m?.sid.startsWith('MM')).toBe(true);
  });

  it('sends nothing for an empty <Response/>, for an answer that is not TwiML, and for no answer', () => {
    for (const answer of [
      '<Response/>',
      '<?xml version="1.0"?><Response></Response>',
      '{"ok":true}',
      '<Message>x',
      null,
    ]) {
      expect(repliesFromTwiml(answer, texted, depsFor())).toEqual({ messages: [], refused: [] });
    }
  });

  it('refuses a reply to an opted-out sender (21610) and an empty one (21602), as a REST create would', () => {
    const optOuts = new OptOutList();
    optOuts.add(A, CUSTOMER, NUMBER);
    const stopped = repliesFromTwiml('<Response><Message>hi</Message></Response>', texted, depsFor(optOuts));
    expect(stopped.messages).toEqual([]);
    expect(stopped.refused.map((e) => e.code)).toEqual([21610]);
    const empty = repliesFromTwiml('<Response><Message></Message></Response>', texted, depsFor());
    expect(empty.refused.map((e) => e.code)).toEqual([21602]);
  });
});
