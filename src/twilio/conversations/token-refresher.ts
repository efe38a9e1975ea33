import { systemClock, type Clock, type ClockTimer } from '../../common/clock';
import type { Logger, Metrics } from '../../observability';
import type { MintedToken, TokenProvider } from './access-token-provider';

/** What a token is handed to: the live Conversations session. */
export interface TokenTarget {
  updateToken(jwt: string): Promise<void>;
}

export interface TokenRefresherOptions {
  tokens: TokenProvider;
  /** Refresh at this fraction of the token's lifetime (0.8: after 80 %). */
  refreshAt: number;
  /** The session a refresh is for now; undefined when none may be refreshed (no session, stopping, denied). */
  current: () => TokenTarget | undefined;
  logger: Logger;
  metrics: Pick<Metrics, 'conversationsTokenRefreshes'>;
  clock?: Clock;
  /** Wait before trying again after a failed refresh (default 10 s). */
  retryMs?: number;
}

/**
 * The Conversations session's access tokens: minted for a new session,
 * refreshed on a timer at `refreshAt` of their lifetime and whenever the
 * session asks (about to expire, expired, disconnected), retried after a
 * failure. Concurrent reasons share one refresh, except that an urgent one
 * (expired, disconnected) does not wait behind a routine refresh still in
 * flight: that one may hang on a socket that closed, and only a token given
 * after the close reconnects.
 */
export class TokenRefresher {
  private readonly clock: Clock;
  private timer: ClockTimer | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshingUrgent = false;
  private seq = 0;

  constructor(private readonly o: TokenRefresherOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** A token for a session about to open; its refresh is scheduled. */
  mint(): MintedToken {
    const token = this.o.tokens();
    this.schedule(token);
    return token;
  }

  refresh(reason: string): Promise<void> {
    const urgent = reason === 'expired' || reason === 'disconnected';
    if (this.refreshing && (!urgent || this.refreshingUrgent)) return this.refreshing;
    const session = this.o.current();
    if (!session) return Promise.resolve();
    const seq = ++this.seq;
    const current = () => seq === this.seq && session === this.o.current();
    this.refreshingUrgent = urgent;
    const run = (async () => {
      try {
        const token = this.mint();
        await session.updateToken(token.jwt);
        if (!current()) return;
        this.o.metrics.conversationsTokenRefreshes.inc();
        this.o.logger.info(
          { reason, expiresAt: new Date(token.expiresAt).toISOString() },
          'Conversations access token refreshed',
        );
      } catch (err) {
        if (!current()) return;
        this.o.logger.warn({ err, reason }, 'Conversations token refresh failed; retrying');
        this.setTimer(() => void this.refresh('retry'), this.o.retryMs ?? 10_000);
      } finally {
        if (seq === this.seq) this.refreshing = undefined;
      }
    })();
    this.refreshing = run;
    return run;
  }

  /** No more scheduled refreshes (the session closed or the client stops). */
  cancel(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(token: MintedToken): void {
    const due = token.issuedAt + (token.expiresAt - token.issuedAt) * this.o.refreshAt;
    this.setTimer(() => void this.refresh('timer'), Math.max(0, due - this.clock.now()));
  }

  private setTimer(fn: () => void, ms: number): void {
    this.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      fn();
    }, ms);
  }
}
