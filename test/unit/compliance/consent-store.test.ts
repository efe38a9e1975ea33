import fc from 'fast-check';
import { SmsEnvelopeBuilder, type ConsentScope, type InternalEventV2 } from '../../../src/envelope';
import { consentKey } from '../../../src/kafka/topics';
import { ConsentStore } from '../../../src/compliance/consent-store';
import { createMetrics } from '../../../src/observability';
import { clockFrom } from '../../../src/common/clock';

const ACCOUNT = 'AC' + '0'.repeat(31) + '1';
const OTHER_ACCOUNT = 'AC' + '0'.repeat(31) + '9';
const MG = 'MG' + '0'.repeat(31) + '2';
const MG2 = 'MG' + '0'.repeat(31) + '3';
const A = '+14155550100';
const B = '+14155550101';
const CUSTOMER = '+14155550123';

let now = Date.parse('2024-05-01T12:00:00.000Z');
const builder = new SmsEnvelopeBuilder(clockFrom(() => now));

function consent(
  action: 'opt_out' | 'opt_in' | 'help',
  scope: ConsentScope,
  opts: { number?: string; account?: string; at?: number } = {},
) {
  if (opts.at !== undefined) now = opts.at;
  else now += 1000;
  return builder.consentChanged({
    accountSid: opts.account ?? ACCOUNT,
    action,
    phoneNumber: opts.number ?? CUSTOMER,
    scope,
    via: 'keyword',
  });
}
const sender = (s: string): ConsentScope => ({ kind: 'sender', sender: s });
const service = (m: string): ConsentScope => ({ kind: 'messaging_service', messagingServiceSid: m });
const account: ConsentScope = { kind: 'account' };
const voice: ConsentScope = { kind: 'voice' };

describe('ConsentStore', () => {
  it('knows nothing at first', () => {
    const store = new ConsentStore();
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(false);
    expect(store.size).toBe(0);
  });

  it('honours sender scope: STOP to A blocks A only', () => {
    const store = new ConsentStore();
    expect(store.apply(consent('opt_out', sender(A)))).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: B })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { messagingServiceSid: MG })).toBe(false);
    expect(store.isOptedOut(OTHER_ACCOUNT, CUSTOMER, { from: A })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, '+14155550999', { from: A })).toBe(false);
  });

  it('honours messaging-service scope, also when the send names both the service and a from number', () => {
    const store = new ConsentStore();
    store.apply(consent('opt_out', service(MG)));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { messagingServiceSid: MG })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A, messagingServiceSid: MG })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { messagingServiceSid: MG2 })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(false);
  });

  it('STOPALL blocks every sender of the account, and only that account', () => {
    const store = new ConsentStore();
    store.apply(consent('opt_out', account));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { messagingServiceSid: MG })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER)).toBe(true);
    expect(store.isOptedOut(OTHER_ACCOUNT, CUSTOMER, { from: A })).toBe(false);
  });

  it('keeps a do-not-call list apart: a voice opt-out blocks calls only, STOP and STOPALL block texts only', () => {
    const store = new ConsentStore();
    expect(store.isDoNotCall(ACCOUNT, CUSTOMER)).toBe(false);
    store.apply(consent('opt_out', voice));
    expect(store.isDoNotCall(ACCOUNT, CUSTOMER)).toBe(true);
    expect(store.isDoNotCall(OTHER_ACCOUNT, CUSTOMER)).toBe(false);
    expect(store.isDoNotCall(ACCOUNT, B)).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER)).toBe(false);
    store.apply(consent('opt_out', account));
    store.apply(consent('opt_out', sender(A)));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    expect(store.isDoNotCall(ACCOUNT, CUSTOMER)).toBe(true);
    store.apply(consent('opt_in', voice));
    expect(store.isDoNotCall(ACCOUNT, CUSTOMER)).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    store.apply(consent('opt_out', account, { number: B }));
    expect(store.isDoNotCall(ACCOUNT, B)).toBe(false);
  });

  it('a voice record has its own consent key, and its tombstone lifts the do-not-call entry', () => {
    const store = new ConsentStore();
    const event = consent('opt_out', voice);
    expect(consentKey(event as Extract<InternalEventV2, { type: 'sms.consent.changed' }>)).toBe(
      `${ACCOUNT}|voice|${CUSTOMER}`,
    );
    store.apply(event);
    store.apply(consent('opt_out', sender(A)));
    expect(store.entries(ACCOUNT, CUSTOMER)).toEqual(
      expect.arrayContaining([{ scope: { kind: 'voice' }, optedOut: true, occurredAt: undefined }]),
    );
    expect(store.removeKey(`${ACCOUNT}|voice|${CUSTOMER}`)).toBe(true);
    expect(store.isDoNotCall(ACCOUNT, CUSTOMER)).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
  });

  it('the latest record of a key wins', () => {
    const store = new ConsentStore();
    store.apply(consent('opt_out', sender(A)));
    store.apply(consent('opt_in', sender(A)));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(false);
    store.apply(consent('opt_out', sender(A)));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
  });

  it('an opt-in to one sender after STOPALL re-opens that sender only', () => {
    const store = new ConsentStore();
    store.apply(consent('opt_out', account));
    store.apply(consent('opt_in', sender(A)));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: B })).toBe(true);
  });

  it('an opt-in older than the STOPALL does not re-open the sender, whatever the apply order', () => {
    const t = Date.parse('2024-06-01T00:00:00Z');
    const optIn = consent('opt_in', sender(A), { at: t });
    const stopAll = consent('opt_out', account, { at: t + 5000 });
    for (const order of [
      [optIn, stopAll],
      [stopAll, optIn],
    ]) {
      const store = new ConsentStore();
      order.forEach((e) => store.apply(e));
      expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    }
  });

  it('a tie between STOPALL and a sender opt-in blocks', () => {
    const t = Date.parse('2024-06-02T00:00:00Z');
    const store = new ConsentStore();
    store.apply(consent('opt_out', account, { at: t }));
    store.apply(consent('opt_in', sender(A), { at: t }));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
  });

  it('a sender opt-out still blocks after the account-wide opt-out is lifted', () => {
    const store = new ConsentStore();
    store.apply(consent('opt_out', sender(A)));
    store.apply(consent('opt_out', account));
    store.apply(consent('opt_in', account));
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: B })).toBe(false);
  });

  it('ignores help requests and other event types', () => {
    const store = new ConsentStore();
    expect(store.apply(consent('help', sender(A)))).toBe(false);
    const inbound = builder.inboundFromWebhook({
      MessageSid: 'SM' + '1'.repeat(32),
      AccountSid: ACCOUNT,
      From: CUSTOMER,
      To: A,
      Body: 'STOP',
    });
    expect(store.apply(inbound)).toBe(false);
    expect(store.size).toBe(0);
  });

  it('keeps the gauge at the number of opted-out phone numbers', () => {
    const values: number[] = [];
    const store = new ConsentStore({ gauge: { set: (v) => values.push(v) } });
    store.apply(consent('opt_out', sender(A)));
    store.apply(consent('opt_out', sender(B)));
    store.apply(consent('opt_out', sender(A), { number: '+14155550124' }));
    expect(store.optedOutNumbers).toBe(2);
    expect(store.size).toBe(3);
    store.apply(consent('opt_in', sender(A)));
    expect(store.optedOutNumbers).toBe(2);
    store.apply(consent('opt_in', sender(B)));
    expect(store.optedOutNumbers).toBe(1);
    expect(values.at(-1)).toBe(1);
    store.clear();
    expect(values.at(-1)).toBe(0);
    expect(store.isOptedOut(ACCOUNT, '+14155550124', { from: A })).toBe(false);
  });

  it('drives the twilio_opt_out_cache_size gauge of the metrics registry', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const store = new ConsentStore({ gauge: metrics.optOutCacheSize });
    store.apply(consent('opt_out', sender(A)));
    store.apply(consent('opt_out', account, { number: '+14155550124' }));
    expect(await metrics.registry.getSingleMetricAsString('twilio_opt_out_cache_size')).toMatch(
      /^twilio_opt_out_cache_size 2$/m,
    );
  });

  it('forgets a key on a tombstone', () => {
    const store = new ConsentStore();
    const e = consent('opt_out', service(MG));
    store.apply(e);
    store.apply(consent('opt_out', sender(A)));
    expect(store.removeKey(consentKey(e as Extract<InternalEventV2, { type: 'sms.consent.changed' }>))).toBe(true);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { messagingServiceSid: MG })).toBe(false);
    expect(store.isOptedOut(ACCOUNT, CUSTOMER, { from: A })).toBe(true);
    expect(store.removeKey('garbage')).toBe(false);
    expect(store.removeKey(`${ACCOUNT}|account|${CUSTOMER}`)).toBe(false);
  });

  it('lists the entries of a number', () => {
    const store = new ConsentStore();
    store.apply(consent('opt_out', sender(A), { at: Date.parse('2024-07-01T00:00:00Z') }));
    store.apply(consent('opt_in', service(MG), { at: Date.parse('2024-07-02T00:00:00Z') }));
    expect(store.entries(ACCOUNT, CUSTOMER)).toEqual([
      { scope: { kind: 'sender', sender: A }, optedOut: true, occurredAt: undefined },
      {
        scope: { kind: 'messaging_service', messagingServiceSid: MG },
        optedOut: false,
        occurredAt: '2024-07-02T00:00:00.000Z',
      },
    ]);
    expect(store.entries(OTHER_ACCOUNT, CUSTOMER)).toEqual([]);
  });
});

const NUMBERS = [CUSTOMER, '+14155550124', '+14155550125', 'whatsapp:+14155550126'];
const E164_OF: Record<string, string> = Object.fromEntries(NUMBERS.map((n) => [n, n.replace('whatsapp:', '')]));

describe('ConsentStore against a reference model', () => {
  // Reference: last record per consent key, then the documented rule, evaluated naively.
  it('agrees with the documented rule on random histories', () => {
    const scopes: ConsentScope[] = [sender(A), sender(B), service(MG), account];
    const step = fc.record({
      action: fc.constantFrom('opt_out' as const, 'opt_in' as const, 'help' as const),
      scope: fc.constantFrom(...scopes),
      number: fc.constantFrom(...NUMBERS),
      acct: fc.constantFrom(ACCOUNT, OTHER_ACCOUNT),
      dt: fc.integer({ min: -3000, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60, size: 'max' }), (steps) => {
        const store = new ConsentStore();
        const last = new Map<string, { optedOut: boolean; at: number; scope: ConsentScope }>();
        let t = Date.parse('2024-01-01T00:00:00Z');
        for (const s of steps) {
          t += s.dt;
          const built = consent(s.action, s.scope, { number: E164_OF[s.number]!, account: s.acct, at: t });
          // A key the E.164 table refuses exercises the store's fallback path (events bypassing validation).
          const e = { ...built, data: { ...built.data, phoneNumber: s.number } } as typeof built;
          store.apply(e);
          if (s.action === 'help') continue;
          last.set(consentKey(e as Extract<InternalEventV2, { type: 'sms.consent.changed' }>), {
            optedOut: s.action === 'opt_out',
            at: Date.parse(e.occurredAt),
            scope: s.scope,
          });
        }
        expect(store.size).toBe([...last.values()].filter((r) => r.optedOut || r.scope.kind !== 'account').length);
        const optedOut = new Set([...last.entries()].filter(([, r]) => r.optedOut).map(([k]) => k.split('|')[2]));
        expect(store.optedOutNumbers).toBe(optedOut.size);
        for (const acct of [ACCOUNT, OTHER_ACCOUNT]) {
          for (const number of NUMBERS) {
            for (const ctx of [
              { from: A },
              { from: B },
              { messagingServiceSid: MG },
              { from: A, messagingServiceSid: MG },
              {},
            ]) {
              const rec = (scope: ConsentScope) =>
                last.get(
                  `${acct}|${scope.kind === 'sender' ? `sender:${scope.sender}` : scope.kind === 'messaging_service' ? `ms:${scope.messagingServiceSid}` : 'account'}|${number}`,
                );
              const specific = [
                ...(ctx.from ? [rec(sender(ctx.from))] : []),
                ...(ctx.messagingServiceSid ? [rec(service(ctx.messagingServiceSid))] : []),
              ].filter((r) => r !== undefined);
              const acc = rec(account);
              const expected =
                specific.some((r) => r.optedOut) ||
                (acc !== undefined && acc.optedOut && !specific.some((r) => !r.optedOut && r.at > acc.at));
              expect(store.isOptedOut(acct, number, ctx)).toBe(expected);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
