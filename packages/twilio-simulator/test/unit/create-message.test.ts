import { createMessage, type CreateDeps } from '../../src/create-message';
import { NumberDirectory } from '../../src/number-directory';
import { OptOutList } from '../../src/opt-out';
import { SeededRng } from '../../src/rng';

const A = 'AC' + 'a'.repeat(32);
const MG = 'MG' + 'b'.repeat(32);
const NOW = Date.UTC(2024, 0, 1);

function deps(over: Partial<CreateDeps> = {}): CreateDeps {
  return {
    accountSid: A,
    now: NOW,
    seq: 0,
    rng: new SeededRng(1),
    numbers: new NumberDirectory([], [], A),
    optOuts: new OptOutList(),
    magicNumbers: true,
    ...over,
  };
}

function form(o: Record<string, string | string[]>): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p;
}

function code(o: Record<string, string | string[]>, d = deps()): number | undefined {
  const r = createMessage(form(o), d);
  return r.ok ? undefined : r.error.code;
}

describe('createMessage validation (Twilio codes, Twilio order)', () => {
  const ok = { To: '+15558675310', From: '+15017122661', Body: 'hi' };

  it.each([
    ['missing To', { From: ok.From, Body: 'x' }, 21604],
    ['invalid To', { ...ok, To: '555-1234' }, 21211],
    ['To without +', { ...ok, To: '15558675310' }, 21211],
    ['neither From nor service', { To: ok.To, Body: 'x' }, 21603],
    ['malformed From', { ...ok, From: '+1-800-FLOWERS' }, 21212],
    ['malformed service SID', { To: ok.To, MessagingServiceSid: 'MG123', Body: 'x' }, 21701],
    ['no body and no media', { To: ok.To, From: ok.From }, 21602],
    ['empty body and empty media', { ...ok, Body: '', MediaUrl: '' }, 21602],
    ['1601 characters', { ...ok, Body: 'a'.repeat(1601) }, 21617],
    ['11 media', { ...ok, MediaUrl: Array.from({ length: 11 }, (_, i) => `https://x/${i}.png`) }, 21623],
    ['a non-http media URL', { ...ok, MediaUrl: 'ftp://x/a.png' }, 21620],
    ['a bad ValidityPeriod', { ...ok, ValidityPeriod: '0' }, 20001],
  ])('%s → %i', (_name, o, expected) => {
    expect(code(o)).toBe(expected);
  });

  it('checks To before the sender and the sender before the body', () => {
    expect(code({ To: 'bad' })).toBe(21211);
    expect(code({ To: ok.To, From: 'bad sender!' })).toBe(21212);
  });

  it('accepts 1600 characters counted as Twilio counts them (an emoji is one)', () => {
    expect(code({ ...ok, Body: '😀'.repeat(1600) })).toBeUndefined();
    expect(code({ ...ok, Body: 'a'.repeat(1600) })).toBeUndefined();
  });

  it.each([
    ['+15005550001', 21211],
    ['+15005550002', 21612],
    ['+15005550003', 21408],
    ['+15005550004', 21610],
    ['+15005550009', 21614],
  ])("Twilio's magic To %s → %i", (to, expected) => {
    expect(code({ ...ok, To: to })).toBe(expected);
    expect(code({ ...ok, To: to }, deps({ magicNumbers: false }))).toBeUndefined();
  });

  it.each([
    ['+15005550001', 21212],
    ['+15005550007', 21606],
    ['+15005550008', 21611],
  ])("Twilio's magic From %s → %i", (from, expected) => {
    expect(code({ ...ok, From: from })).toBe(expected);
  });

  it('accepts short codes, alphanumeric sender IDs and channel addresses as senders', () => {
    for (const From of ['12345', 'ACME Inc', 'whatsapp:+15017122661']) expect(code({ ...ok, From })).toBeUndefined();
  });

  it('requires an owned From once the account has numbers (21606)', () => {
    const numbers = new NumberDirectory([{ phoneNumber: '+15017122661' }], [], A);
    expect(code(ok, deps({ numbers }))).toBeUndefined();
    expect(code({ ...ok, From: '+15017120000' }, deps({ numbers }))).toBe(21606);
  });

  it('refuses an opted-out recipient for that sender, the service, or account-wide (21610)', () => {
    const optOuts = new OptOutList();
    optOuts.add(A, ok.To, ok.From);
    expect(code(ok, deps({ optOuts }))).toBe(21610);
    expect(code({ ...ok, From: '+15017120000' }, deps({ optOuts }))).toBeUndefined();
    optOuts.add(A, '+15550001111', MG);
    expect(code({ To: '+15550001111', MessagingServiceSid: MG, Body: 'x' }, deps({ optOuts }))).toBe(21610);
  });

  it('creates a queued message with From, accepted with a service (0 segments until a sender is picked)', () => {
    const a = createMessage(form({ ...ok, StatusCallback: 'http://cb', ValidityPeriod: '60' }), deps());
    expect(a.ok && a.message).toMatchObject({
      status: 'queued',
      from: ok.From,
      numSegments: 1,
      segments: 1,
      statusCallback: 'http://cb',
      validityPeriodSec: 60,
      direction: 'outbound-api',
      dateCreated: NOW,
      dateSent: null,
    });
    const b = createMessage(form({ To: ok.To, MessagingServiceSid: MG, Body: 'x' }), deps());
    expect(b.ok && b.message).toMatchObject({ status: 'accepted', from: null, numSegments: 0, segments: 1 });
  });

  it('gives MMS an MM SID', () => {
    const r = createMessage(form({ ...ok, MediaUrl: ['https://x/a.png', 'https://x/b.png'] }), deps());
    expect(r.ok && r.message.sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(r.ok && r.message.mediaUrls).toEqual(['https://x/a.png', 'https://x/b.png']);
  });

  it('schedules with a service between 15 minutes and 35 days ahead, else 35114; drops scheduling without one', () => {
    const at = (ms: number) => new Date(NOW + ms).toISOString();
    const base = { To: ok.To, MessagingServiceSid: MG, Body: 'x', ScheduleType: 'fixed' };
    const r = createMessage(form({ ...base, SendAt: at(20 * 60_000) }), deps());
    expect(r.ok && r.message).toMatchObject({ status: 'scheduled', sendAt: NOW + 20 * 60_000 });
    expect(code({ ...base, SendAt: at(14 * 60_000) })).toBe(35114);
    expect(code({ ...base, SendAt: at(36 * 86_400_000) })).toBe(35114);
    expect(code({ ...base, SendAt: 'tomorrow' })).toBe(35114);
    const noService = createMessage(form({ ...ok, ScheduleType: 'fixed', SendAt: at(20 * 60_000) }), deps());
    expect(noService.ok && noService.message.status).toBe('queued');
  });
});
