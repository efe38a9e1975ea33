import type { OutboundMessage } from '../../../../src/twilio/egress/delivery';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { findSentMessage, RECONCILE_SKEW_MS } from '../../../../src/twilio/egress/reconcile';
import { ACCOUNT, ALICE, FakeTwilio, SENDER, SERVICE } from './fakes';

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  to: ALICE,
  from: SENDER,
  messagingServiceSid: undefined,
  body: 'Your “code” is 1',
  mediaUrls: [],
  statusCallback: undefined,
  sendAt: undefined,
  validityPeriodSecs: undefined,
  smartEncoded: undefined,
  encoding: 'UCS-2',
  segments: 1,
  conversationSid: undefined,
  ...over,
});

describe('findSentMessage (reconciliation)', () => {
  let now = 1_700_000_000_000;
  const twilio = () => new FakeTwilio(() => now);

  it('finds the message of this attempt: same recipient, sender and body, created since the attempt', async () => {
    const t = twilio();
    const ledger = new MemorySendLedger();
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'Your “code” is 1' });
    const found = await findSentMessage(t, ledger, {
      accountSid: ACCOUNT,
      ledgerKey: 'k',
      message: message(),
      attemptAt: now,
    });
    expect(found?.sid).toBe(t.messages[0]!.sid);
    // Both the recent page and the DateSent> query were asked.
    expect(t.lists.map((l) => l.dateSentAfter !== undefined)).toEqual([false, true]);
    expect(t.lists[1]!.dateSentAfter!.getTime()).toBe(now - RECONCILE_SKEW_MS);
  });

  it('ignores another sender, another body, an older message and one claimed by another request', async () => {
    const t = twilio();
    const ledger = new MemorySendLedger();
    now -= 10 * 60_000;
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'Your “code” is 1' });
    now += 10 * 60_000;
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: '+14155550999', body: 'Your “code” is 1' });
    await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'something else' });
    const claimed = await t.create({ accountSid: ACCOUNT, to: ALICE, from: SENDER, body: 'Your “code” is 1' });
    await ledger.recordSent({
      key: 'other',
      requestId: 'other',
      recipient: ALICE,
      accountSid: ACCOUNT,
      attemptAt: now,
      owner: 'x',
      messageSid: claimed.sid,
    });
    const q = { accountSid: ACCOUNT, ledgerKey: 'k', message: message(), attemptAt: now };
    expect(await findSentMessage(t, ledger, q)).toBeUndefined();
    // The request that claimed it finds it.
    expect((await findSentMessage(t, ledger, { ...q, ledgerKey: 'other' }))?.sid).toBe(claimed.sid);
  });

  it('matches the smart-encoded body Twilio stored, and a messaging-service send by its service', async () => {
    const t = twilio();
    await t.create({ accountSid: ACCOUNT, to: ALICE, messagingServiceSid: SERVICE, body: 'Your "code" is 1' });
    const found = await findSentMessage(t, new MemorySendLedger(), {
      accountSid: ACCOUNT,
      ledgerKey: 'k',
      message: message({
        from: undefined,
        messagingServiceSid: SERVICE,
        bodyAsSent: 'Your "code" is 1',
        smartEncoded: true,
      }),
      attemptAt: now,
    });
    expect(found?.messagingServiceSid).toBe(SERVICE);
  });
});
