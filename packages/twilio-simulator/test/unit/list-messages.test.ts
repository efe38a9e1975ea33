import { listMessages } from '../../src/list-messages';
import type { SimMessage } from '../../src/message';
import { MessageStore } from '../../src/message-store';

const A = 'AC' + 'a'.repeat(32);
const PATH = `/2010-04-01/Accounts/${A}/Messages.json`;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 10);

function msg(store: MessageStore, i: number, over: Partial<SimMessage> = {}): SimMessage {
  const m: SimMessage = {
    sid: `SM${String(i).padStart(32, '0')}`,
    accountSid: A,
    direction: 'outbound-api',
    from: '+15005550006',
    to: '+15550000001',
    body: `m${i}`,
    messagingServiceSid: null,
    mediaUrls: [],
    numSegments: 1,
    segments: 1,
    status: 'sent',
    dateCreated: T0 + i * 1000,
    dateUpdated: T0 + i * 1000,
    dateSent: T0 + i * 1000,
    errorCode: null,
    errorMessage: null,
    price: null,
    priceUnit: 'USD',
    statusCallback: null,
    sendAt: null,
    validityPeriodSec: null,
    seq: store.nextSeq(),
    history: [],
    ...over,
  };
  store.add(m);
  return m;
}

function bodies(result: ReturnType<typeof listMessages>): string[] {
  if (!result.ok) throw new Error(result.error.message);
  return (result.body.messages as { body: string }[]).map((m) => m.body);
}

describe('listMessages', () => {
  it('pages newest first with PA/PB page tokens and the list envelope', () => {
    const store = new MessageStore();
    for (let i = 0; i < 5; i++) msg(store, i);
    const first = listMessages(store, A, PATH, 'PageSize=2', 50);
    expect(bodies(first)).toEqual(['m4', 'm3']);
    const env = first.ok ? first.body : {};
    expect(env).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect(env.first_page_uri).toBe(`${PATH}?PageSize=2&Page=0`);
    expect(env.uri).toBe(`${PATH}?PageSize=2&Page=0`);
    const next = String(env.next_page_uri);
    expect(next).toBe(`${PATH}?PageSize=2&Page=1&PageToken=PA${'SM' + '3'.padStart(32, '0')}`);

    // A message arriving meanwhile does not shift the next page.
    msg(store, 5);
    const second = listMessages(store, A, PATH, next.split('?')[1] ?? '', 50);
    expect(bodies(second)).toEqual(['m2', 'm1']);
    const env2 = second.ok ? second.body : {};
    expect(env2).toMatchObject({ page: 1, start: 2, end: 3 });
    const third = listMessages(store, A, PATH, String(env2.next_page_uri).split('?')[1] ?? '', 50);
    expect(bodies(third)).toEqual(['m0']);
    expect(third.ok && third.body.next_page_uri).toBeNull();
    const back = listMessages(store, A, PATH, String(third.ok && third.body.previous_page_uri).split('?')[1] ?? '', 50);
    expect(bodies(back)).toEqual(['m2', 'm1']);
  });

  it('uses Page without a token, the default page size, and caps PageSize at 1000', () => {
    const store = new MessageStore();
    for (let i = 0; i < 3; i++) msg(store, i);
    expect(bodies(listMessages(store, A, PATH, 'PageSize=1&Page=2', 50))).toEqual(['m0']);
    expect(bodies(listMessages(store, A, PATH, '', 2))).toEqual(['m2', 'm1']);
    const big = listMessages(store, A, PATH, 'PageSize=5000', 50);
    expect(big.ok && big.body.page_size).toBe(1000);
  });

  it('filters by To and From and keeps the filters in every page URI', () => {
    const store = new MessageStore();
    msg(store, 0, { to: '+15550000002' });
    msg(store, 1, { from: '+15005550007' });
    msg(store, 2);
    const r = listMessages(store, A, PATH, 'To=%2B15550000001&From=%2B15005550006&PageSize=1', 50);
    expect(bodies(r)).toEqual(['m2']);
    expect(r.ok && r.body.uri).toBe(`${PATH}?To=%2B15550000001&From=%2B15005550006&PageSize=1&Page=0`);
    expect(r.ok && r.body.next_page_uri).toBeNull();
  });

  it('filters on date_sent: a whole UTC day, on-or-before, on-or-after; unsent messages never match', () => {
    const store = new MessageStore();
    msg(store, 0, { dateSent: T0 - DAY, body: 'yesterday' });
    msg(store, 1, { dateSent: T0 + 3600_000, body: 'today' });
    msg(store, 2, { dateSent: T0 + DAY, body: 'tomorrow' });
    msg(store, 3, { dateSent: null, status: 'queued', body: 'unsent' });
    expect(bodies(listMessages(store, A, PATH, 'DateSent=2024-01-10', 50))).toEqual(['today']);
    expect(bodies(listMessages(store, A, PATH, 'DateSent%3C=2024-01-10', 50))).toEqual(['today', 'yesterday']);
    expect(bodies(listMessages(store, A, PATH, 'DateSent%3E=2024-01-10', 50))).toEqual(['tomorrow', 'today']);
    expect(bodies(listMessages(store, A, PATH, 'DateSent%3E=2024-01-10T02:00:00Z', 50))).toEqual(['tomorrow']);
    const bad = listMessages(store, A, PATH, 'DateSent=yesterday', 50);
    expect(!bad.ok && bad.error.code).toBe(20001);
  });

  it('lists only the account, hides deleted messages and drops the oldest past the limit', () => {
    const store = new MessageStore(3);
    msg(store, 0, { accountSid: 'AC' + 'f'.repeat(32) });
    const gone = msg(store, 1);
    msg(store, 2);
    msg(store, 3);
    store.delete(gone.sid);
    expect(bodies(listMessages(store, A, PATH, '', 50))).toEqual(['m3', 'm2']);
    msg(store, 4);
    expect(store.size).toBe(3);
    expect(store.evicted).toBe(2);
    // Outbound messages ever added, evicted ones included (msg() adds outbound ones).
    expect(store.outboundCreated).toBe(5);
    expect(bodies(listMessages(store, A, PATH, '', 50))).toEqual(['m4', 'm3', 'm2']);
    expect(store.timesSent('+15550000001', 'm0')).toBe(1);
  });
});
