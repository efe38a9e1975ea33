import { parseWebhookUrl } from '../../src';

describe('connection overrides', () => {
  it("defaults to Twilio's: 5 s connect, 15 s read, 15 s total, 1 retry on connect failures", () => {
    const { url, overrides } = parseWebhookUrl('https://example.com/sms?x=1');
    expect(url).toBe('https://example.com/sms?x=1');
    expect(overrides).toEqual({
      connectTimeoutMs: 5000,
      readTimeoutMs: 15000,
      totalTimeoutMs: 15000,
      retryCount: 1,
      retryPolicy: new Set(['ct']),
    });
  });

  it('reads the fragment and strips it from the URL', () => {
    const { url, overrides } = parseWebhookUrl('https://example.com/sms#ct=1000&rt=2000&tt=3000&rc=3&rp=5xx,rt');
    expect(url).toBe('https://example.com/sms');
    expect(overrides.connectTimeoutMs).toBe(1000);
    expect(overrides.readTimeoutMs).toBe(2000);
    expect(overrides.totalTimeoutMs).toBe(3000);
    expect(overrides.retryCount).toBe(3);
    expect([...overrides.retryPolicy].sort()).toEqual(['5xx', 'rt']);
  });

  it('clamps to the documented ranges and falls back on an unknown policy', () => {
    const { overrides } = parseWebhookUrl('http://h/p#ct=1&rt=999999&tt=50&rc=9&rp=sometimes');
    expect(overrides).toMatchObject({
      connectTimeoutMs: 100,
      readTimeoutMs: 15000,
      totalTimeoutMs: 100,
      retryCount: 5,
    });
    expect([...overrides.retryPolicy]).toEqual(['ct']);
    expect([...parseWebhookUrl('http://h/p#rp=all').overrides.retryPolicy].sort()).toEqual(['4xx', '5xx', 'ct', 'rt']);
  });
});
