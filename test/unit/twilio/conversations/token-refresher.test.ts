import { createMetrics } from '../../../../src/observability';
import { TokenRefresher, type TokenTarget } from '../../../../src/twilio/conversations/token-refresher';
import { deferred, fakeTokens, flush, memoryLogger } from './fakes';
import { steppedClock } from '../../../helpers/stepped-clock';

function setup(target: TokenTarget | undefined) {
  const clock = steppedClock(1_000_000);
  const tokens = fakeTokens(100_000, () => clock.now());
  const metrics = createMetrics({ defaultMetrics: false });
  const { logger, lines } = memoryLogger();
  let current = target;
  const refresher = new TokenRefresher({
    tokens,
    refreshAt: 0.8,
    current: () => current,
    logger,
    metrics,
    clock,
    retryMs: 5_000,
  });
  return { clock, tokens, metrics, lines, refresher, setCurrent: (t: TokenTarget | undefined) => (current = t) };
}

describe('TokenRefresher', () => {
  it('mints a token for a new session and refreshes it at 80 % of its lifetime', async () => {
    const given: string[] = [];
    const { clock, refresher } = setup({ updateToken: async (jwt) => void given.push(jwt) });
    expect(refresher.mint().jwt).toBe('t1');
    clock.advance(79_999);
    await flush();
    expect(given).toEqual([]);
    clock.advance(1);
    await flush();
    expect(given).toEqual(['t2']);
  });

  it('shares one refresh between routine reasons, but an expiry does not wait behind a hung one', async () => {
    const hung = deferred<void>();
    const given: string[] = [];
    const { refresher } = setup({
      updateToken: (jwt) => {
        given.push(jwt);
        return given.length === 1 ? hung.promise : Promise.resolve();
      },
    });
    const a = refresher.refresh('about-to-expire');
    expect(refresher.refresh('timer')).toBe(a);
    await refresher.refresh('expired');
    expect(given).toEqual(['t1', 't2']);
    hung.resolve();
    await a;
  });

  it('retries a failed refresh after the retry wait, and counts only refreshes that took', async () => {
    let fail = true;
    const given: string[] = [];
    const { clock, refresher, metrics, lines } = setup({
      updateToken: async (jwt) => {
        given.push(jwt);
        if (fail) throw new Error('socket closed');
      },
    });
    await refresher.refresh('expired');
    expect(lines.some((l) => l.msg === 'Conversations token refresh failed; retrying')).toBe(true);
    fail = false;
    clock.advance(5_000);
    await flush();
    expect(given).toEqual(['t1', 't2']);
    expect((await metrics.conversationsTokenRefreshes.get()).values[0]?.value).toBe(1);
  });

  it('does nothing without a session to refresh, and nothing after cancel()', async () => {
    const { clock, refresher, tokens, setCurrent } = setup(undefined);
    await refresher.refresh('expired');
    expect(tokens.issued).toHaveLength(0);
    const given: string[] = [];
    setCurrent({ updateToken: async (jwt) => void given.push(jwt) });
    refresher.mint();
    refresher.cancel();
    clock.advance(200_000);
    await flush();
    expect(given).toEqual([]);
  });
});
