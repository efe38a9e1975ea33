import { StatusTracker } from '../../../../src/twilio/webhooks/status-tracker';

describe('StatusTracker', () => {
  let now = 0;
  const make = (maxMessages = 100, ttlMs = 10_000) =>
    new StatusTracker({ maxMessages, ttlMs, clock: { now: () => now } });
  beforeEach(() => {
    now = 5_000_000;
  });

  it('says a first status advances and a lower or equal one arriving later does not', () => {
    const t = make();
    expect(t.advances('SM1', 4)).toBe(true);
    t.record('SM1', 4); // delivered
    expect(t.advances('SM1', 3)).toBe(false); // sent, late
    expect(t.advances('SM1', 4)).toBe(false); // undelivered after delivered
    expect(t.advances('SM1', 5)).toBe(true); // read
  });

  it('records nothing until asked, so a failed publish does not mark its retry late', () => {
    const t = make();
    expect(t.advances('SM1', 3)).toBe(true);
    expect(t.advances('SM1', 3)).toBe(true);
  });

  it('keeps the highest rank when a lower one is recorded later', () => {
    const t = make();
    t.record('SM1', 4);
    t.record('SM1', 2);
    expect(t.advances('SM1', 3)).toBe(false);
  });

  it('forgets a message after its TTL', () => {
    const t = make(100, 10_000);
    t.record('SM1', 4);
    now += 10_000;
    expect(t.advances('SM1', 1)).toBe(true);
  });

  it('is bounded: the least recently updated message is forgotten first', () => {
    const t = make(4, 60_000); // holds at most 4, always the 2 most recently updated
    t.record('A', 4);
    t.record('B', 4);
    t.record('C', 4);
    t.record('A', 5); // A is now the most recent
    t.record('D', 4);
    expect(t.size).toBeLessThanOrEqual(4);
    expect(t.advances('B', 1)).toBe(true); // forgotten
    expect(t.advances('A', 1)).toBe(false);
    expect(t.advances('C', 1)).toBe(false);
  });

  it('drops expired messages from memory on a later update', () => {
    const t = make(100, 10_000);
    for (let i = 0; i < 20; i++) t.record(`SM${i}`, 3);
    expect(t.size).toBe(20);
    now += 10_000;
    t.record('SMlate', 3);
    expect(t.size).toBe(1);
  });
});
