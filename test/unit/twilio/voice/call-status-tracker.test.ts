import { CallStatusTracker } from '../../../../src/twilio/voice/call-status-tracker';

describe('CallStatusTracker', () => {
  let now = 0;
  const tracker = () => new CallStatusTracker({ maxCalls: 10, ttlMs: 1000, clock: { now: () => now } });

  it('orders by SequenceNumber when both callbacks have one', () => {
    const t = tracker();
    expect(t.advances('CA1', 2, 4)).toBe(true);
    t.record('CA1', 2, 4);
    expect(t.advances('CA1', 1, 3)).toBe(false);
    expect(t.advances('CA1', 2, 4)).toBe(false);
    expect(t.advances('CA1', 3, 4)).toBe(true);
  });

  it('falls back to the status rank without sequence numbers', () => {
    const t = tracker();
    t.record('CA1', undefined, 2);
    expect(t.advances('CA1', undefined, 2)).toBe(false);
    expect(t.advances('CA1', undefined, 4)).toBe(true);
    expect(t.advances('CA1', 5, 1)).toBe(false);
    t.record('CA1', 5, 1);
    expect(t.advances('CA1', 4, 4)).toBe(false);
    expect(t.advances('CA1', 6, 4)).toBe(true);
  });

  it('forgets calls after the TTL: their next callback advances', () => {
    const t = tracker();
    now = 0;
    t.record('CA1', 3, 4);
    now = 2000;
    expect(t.advances('CA1', 0, 1)).toBe(true);
  });
});
