import { SmsEnvelopeBuilder } from '../../envelope';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import type { ConnectorHealth } from '../../connector/connector';
import { Lifecycle } from '../../common/lifecycle';
import type { ConnectorPart } from '../../connector';
import type { TokenProvider } from './access-token-provider';
import { TokenRefresher } from './token-refresher';
import { sleep, systemClock, type Clock, type ClockTimer } from '../../common/clock';
import type {
  ConversationMessage,
  ConversationsAdapter,
  ConversationsSession,
  JoinedConversation,
  SessionConnectionError,
  SessionListener,
  SessionState,
} from './conversations-adapter';
import { ConversationRegistry } from './conversation-registry';
import { InboundMessagePublisher, type IngestOutcome } from './inbound-message-publisher';
import { ReadHorizonWriter } from './read-horizon-writer';
import { SdkRejectionGuard, type RejectionGuard } from './sdk-rejection-guard';
import { finishesWithin } from '../../common/deadline';

/**
 * TwilioSmsIngressClient keeps one Twilio Conversations session open and
 * publishes every message that arrives in a joined conversation as an
 * `sms.inbound.received` envelope (channel `conversations`).
 *
 * - Tokens: minted from an API key; refreshed on a timer at `refreshAt` of the
 *   TTL and whenever Twilio says `tokenAboutToExpire`; `tokenExpired` (and a
 *   dropped session) get a fresh token, which reconnects.
 * - Order and checkpoints: each conversation is handled in index order; after
 *   Kafka acknowledged a message its index becomes the identity's read
 *   horizon in Twilio, the durable checkpoint. On join, on restart and after a
 *   reconnect the client backfills everything after it.
 * - Once: message SIDs are deduplicated (socket, Sync replay, backfill and the
 *   `onMessageAdded` webhook all meet here); the connector's own replies are
 *   skipped by author.
 * - Health: ready while connected (and for a short grace while reconnecting);
 *   a denied token is not ready and says why in the log, then retries.
 */
export type IngressState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'denied' | 'stopping' | 'stopped';

export const INGRESS_STATES: readonly IngressState[] = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'denied',
  'stopping',
  'stopped',
];

export interface TwilioSmsIngressClientOptions {
  adapter: ConversationsAdapter;
  tokens: TokenProvider;
  publisher: EventPublisherPort;
  accountSid: string;
  serviceSid: string;
  identity: string;
  logger: Logger;
  metrics: Metrics;
  builder?: SmsEnvelopeBuilder;
  clock?: Clock;
  /** Other authors never ingested (e.g. `system`), besides the identity. */
  ignoreAuthors?: readonly string[];
  /** Messages fetched when a conversation has no checkpoint yet (joined for the first time). */
  backfillLimit?: number;
  /** Fraction of the TTL after which the token is refreshed (default 0.8). */
  refreshAt?: number;
  /** `start()` waits this long for the session to be ready (it never fails for connectivity). */
  startTimeoutMs?: number;
  /** How long a reconnecting session still counts as ready. */
  reconnectGraceMs?: number;
  /** After a denial or a failed start-up, retry after this (doubling up to `maxMs`). */
  restartBackoff?: { initialMs: number; maxMs: number };
  /** How long stop() waits for in-flight publishes and checkpoint writes. */
  stopTimeoutMs?: number;
  /** A backfill page request that takes longer is abandoned and retried. */
  fetchTimeoutMs?: number;
  /**
   * Per conversation, at most one checkpoint write per interval (default 1 s):
   * each write is a request plus a Sync event back, so writing per message
   * would double the session's work; a crash re-publishes at most this much.
   */
  checkpointIntervalMs?: number;
  /** Called (once drained) for conversations that are closed: leave them (1,000 per identity). */
  onClosedConversation?: (conversationSid: string) => Promise<void>;
  /** Defaults to an SdkRejectionGuard on the process. */
  rejectionGuard?: RejectionGuard;
}

export class TwilioSmsIngressClient implements ConnectorPart {
  readonly name = 'conversations';
  private readonly o: Required<
    Pick<
      TwilioSmsIngressClientOptions,
      | 'backfillLimit'
      | 'refreshAt'
      | 'startTimeoutMs'
      | 'reconnectGraceMs'
      | 'restartBackoff'
      | 'stopTimeoutMs'
      | 'fetchTimeoutMs'
      | 'checkpointIntervalMs'
    >
  > &
    TwilioSmsIngressClientOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly lifecycle: Lifecycle;
  private readonly ingestor: InboundMessagePublisher;
  private readonly horizons: ReadHorizonWriter;
  private readonly tokens: TokenRefresher;
  private readonly guard: RejectionGuard;
  private readonly conversations: ConversationRegistry;
  private readonly abort = new AbortController();

  private session: ConversationsSession | undefined;
  private generation = 0;
  private _state: IngressState = 'idle';
  private sdkState: SessionState | undefined;
  private initialized = false;
  private everConnected = false;
  private lastConnectedAt: number | undefined;
  private restartTimer: ClockTimer | undefined;
  private restarts = 0;
  private startWaiters: (() => void)[] = [];
  private lastError: string | undefined;
  private stopRequested = false;
  private deniedTimer: ClockTimer | undefined;

  constructor(options: TwilioSmsIngressClientOptions) {
    this.o = {
      backfillLimit: 1000,
      refreshAt: 0.8,
      startTimeoutMs: 15_000,
      reconnectGraceMs: 30_000,
      restartBackoff: { initialMs: 30_000, maxMs: 600_000 },
      stopTimeoutMs: 5_000,
      fetchTimeoutMs: 15_000,
      checkpointIntervalMs: 1000,
      ...options,
    };
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    this.guard = options.rejectionGuard ?? new SdkRejectionGuard(this.log);
    this.ingestor = new InboundMessagePublisher({
      publisher: options.publisher,
      builder: options.builder ?? new SmsEnvelopeBuilder(),
      accountSid: options.accountSid,
      serviceSid: options.serviceSid,
      ownAuthors: [options.identity, ...(options.ignoreAuthors ?? [])],
      clock: this.clock,
      logger: this.log,
      metrics: options.metrics,
    });
    this.horizons = new ReadHorizonWriter(
      (sid, index) => this.session?.setReadHorizon(sid, index) ?? Promise.reject(new Error('no session')),
      this.clock,
      this.log,
      { minIntervalMs: this.o.checkpointIntervalMs },
    );
    this.conversations = new ConversationRegistry({
      track: {
        handle: async (m) => {
          await this.ingestor.ingest(m, this.abort.signal);
        },
        fetchAfter: (conversationSid, after, signal) => {
          const session = this.session;
          if (!session) return Promise.reject(new Error('no Conversations session'));
          // First join with backfill turned off: only what arrives from now on.
          if (after === null && this.o.backfillLimit === 0) return Promise.resolve([]);
          return this.bounded(session.messagesAfter(conversationSid, after, this.o.backfillLimit), signal);
        },
        checkpointed: (conversationSid, index) => this.horizons.schedule(conversationSid, index),
        backoff: (attempt) =>
          sleep(this.clock, Math.min(500 * 2 ** (attempt - 1), 30_000), this.abort.signal).catch(() => undefined),
        stopping: () => this.stopping(),
      },
      logger: this.log,
      ...(options.onClosedConversation ? { leave: options.onClosedConversation } : {}),
      beforeLeave: () => this.horizons.flush(this.o.stopTimeoutMs),
    });
    this.tokens = new TokenRefresher({
      tokens: options.tokens,
      refreshAt: this.o.refreshAt,
      current: () => (this.stopping() || this._state === 'denied' ? undefined : this.session),
      logger: this.log,
      metrics: options.metrics,
      clock: this.clock,
    });
    this.lifecycle = new Lifecycle(
      'TwilioSmsIngressClient',
      () => this.doStart(),
      () => this.doStop(),
    );
  }

  get state(): IngressState {
    return this._state;
  }

  /** The last index handled per conversation (what the read horizon will say). */
  checkpoints(): Record<string, number | null> {
    return this.conversations.checkpoints();
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    // A start still waiting for the session must not hold the stop up.
    this.stopRequested = true;
    this.releaseStartWaiters();
    return this.lifecycle.stop();
  }

  health(): ConnectorHealth {
    const graceful =
      this._state === 'reconnecting' &&
      this.lastConnectedAt !== undefined &&
      this.clock.now() - this.lastConnectedAt < this.o.reconnectGraceMs;
    return {
      ready: this._state === 'connected' || graceful,
      state: this._state,
      details: {
        identity: this.o.identity,
        session: this.sdkState ?? 'none',
        conversations: this.conversations.size,
        ...(this.lastError ? { lastError: this.lastError } : {}),
      },
    };
  }

  /**
   * A message delivered by the `onMessageAdded` webhook: published now (and
   * deduplicated with the socket). The checkpoint only moves on the socket
   * path, which sees messages in order.
   */
  ingestWebhookMessage(m: ConversationMessage, signal?: AbortSignal): Promise<IngestOutcome> {
    return this.ingestor.ingest(m, signal ? AbortSignal.any([this.abort.signal, signal]) : this.abort.signal);
  }

  /** Waits until every known conversation drained its backfill and queue (tests, shutdown). */
  async settled(): Promise<void> {
    await this.conversations.settled();
  }

  // ---- lifecycle ----

  private async doStart(): Promise<void> {
    this.guard.install();
    this.setState('connecting');
    const ready = new Promise<void>((resolve) => this.startWaiters.push(resolve));
    this.openSession();
    await finishesWithin(ready, this.o.startTimeoutMs, this.clock);
    if (this._state === 'connecting' && !this.stopRequested) {
      this.log.warn(
        { waitedMs: this.o.startTimeoutMs },
        'Conversations session not ready yet; carrying on and reporting not ready',
      );
    }
  }

  private async doStop(): Promise<void> {
    this.setState('stopping');
    this.abort.abort();
    this.tokens.cancel();
    this.clearTimer('restartTimer');
    this.clearTimer('deniedTimer');
    this.releaseStartWaiters();
    const drained = await this.within(this.o.stopTimeoutMs, this.conversations.idle());
    if (!drained)
      this.log.warn('stop: a Conversations message was still being published; it will be backfilled after restart');
    const flushed = await this.horizons.flush(this.o.stopTimeoutMs);
    if (!flushed)
      this.log.warn(
        'stop: the last Conversations checkpoints were not confirmed; some messages may be published again',
      );
    this.horizons.stop();
    this.generation++;
    await this.session?.close();
    this.session = undefined;
    // The SDK rejects its pending requests while it shuts down, in promises
    // nobody awaits; keep the guard a little longer so those stay harmless.
    this.clock.setTimeout(() => this.guard.uninstall(), 2000);
    this.setState('stopped');
  }

  // ---- session ----

  private openSession(): void {
    if (this.stopping()) return;
    const gen = ++this.generation;
    this.initialized = false;
    this.sdkState = undefined;
    this.session = this.o.adapter.connect(this.tokens.mint().jwt, this.listener(gen));
  }

  /** Closes the current session and opens a new one after the restart back-off. */
  private restartLater(reason: string): void {
    if (this.stopping()) return;
    this.generation++;
    const old = this.session;
    this.session = undefined;
    void old?.close();
    this.tokens.cancel();
    const delay = Math.min(this.o.restartBackoff.initialMs * 2 ** this.restarts, this.o.restartBackoff.maxMs);
    this.restarts++;
    this.log.info({ reason, retryInMs: delay }, 'Conversations session will be restarted');
    this.clearTimer('restartTimer');
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      this.openSession();
    }, delay);
  }

  private listener(gen: number): SessionListener {
    const live =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (gen !== this.generation || this.stopping()) return;
        try {
          fn(...args);
        } catch (err) {
          this.log.error({ err }, 'Conversations event handler failed');
        }
      };
    return {
      initialized: live(() => this.onInitialized()),
      initFailed: live((e: SessionConnectionError) => this.onInitFailed(e)),
      stateChanged: live((s: SessionState) => this.onSessionState(s)),
      connectionError: live((e: SessionConnectionError) => {
        this.lastError = e.message;
        if (e.httpStatusCode === 401 || e.httpStatusCode === 403) this.onDenied(e);
        else if (e.terminal) this.log.warn({ err: e }, 'Conversations connection error');
      }),
      tokenAboutToExpire: live(() => void this.tokens.refresh('about-to-expire')),
      tokenExpired: live(() => void this.tokens.refresh('expired')),
      conversationJoined: live((c: JoinedConversation) => this.conversations.joined(c)),
      conversationUpdated: live((c: JoinedConversation) => this.conversations.joined(c, false)),
      conversationLeft: live((sid: string) => this.log.info({ conversationSid: sid }, 'left conversation')),
      messageAdded: live((m: ConversationMessage) => this.conversations.offer(m)),
    };
  }

  private onInitialized(): void {
    this.initialized = true;
    this.restarts = 0;
    this.lastError = undefined;
    this.log.info({ identity: this.o.identity, conversations: this.conversations.size }, 'Conversations session ready');
    if (this.sdkState === 'connected' || this.sdkState === undefined) this.markConnected();
    this.releaseStartWaiters();
  }

  private onInitFailed(e: SessionConnectionError): void {
    this.lastError = e.message;
    if (e.httpStatusCode === 401 || e.httpStatusCode === 403) return this.onDenied(e);
    // Denied: the detailed reason arrives as connectionError (or the fallback timer fires).
    if (this.sdkState === 'denied') return;
    this.log.error({ err: e }, 'Conversations session failed to start');
    this.setState('connecting');
    this.releaseStartWaiters();
    this.restartLater('init-failed');
  }

  private onSessionState(s: SessionState): void {
    const previous = this.sdkState;
    this.sdkState = s;
    switch (s) {
      case 'connected':
        if (this.initialized) this.markConnected(previous !== 'connected');
        return;
      case 'denied':
        // The reason (HTTP status, Twilio code) follows in connectionError/initFailed;
        // handle it there, or here if it never comes.
        this.setState('denied');
        this.clearTimer('deniedTimer');
        this.deniedTimer = this.clock.setTimeout(() => {
          this.deniedTimer = undefined;
          if (this.session && this.sdkState === 'denied')
            this.onDenied({ terminal: true, message: 'access token denied' });
        }, 1000);
        return;
      case 'disconnected':
        // Twilsock ends here after a `close` (410 expired, 401): a fresh token reconnects.
        if (this.initialized) this.setState('reconnecting');
        void this.tokens.refresh('disconnected');
        return;
      default:
        if (this.initialized) this.setState('reconnecting');
    }
  }

  private markConnected(transition = true): void {
    const reconnect = this.everConnected && transition && this._state !== 'connected';
    this.everConnected = true;
    this.lastConnectedAt = this.clock.now();
    this.setState('connected');
    if (reconnect) {
      this.o.metrics.conversationsReconnects.inc();
      this.log.info({ conversations: this.conversations.size }, 'Conversations session reconnected; backfilling');
      this.conversations.backfillAll();
    }
  }

  private onDenied(e: SessionConnectionError): void {
    if (this._state === 'denied' && this.session === undefined) return;
    this.clearTimer('deniedTimer');
    this.setState('denied');
    this.log.error(
      {
        httpStatusCode: e.httpStatusCode,
        errorCode: e.errorCode,
        identity: this.o.identity,
        reason: e.message,
      },
      'Twilio Conversations denied the access token: check that TWILIO_API_KEY_SID/TWILIO_API_KEY_SECRET are a valid API key ' +
        'of TWILIO_ACCOUNT_SID and that TWILIO_CONVERSATIONS_SERVICE_SID exists in that account; not ready until a token is accepted',
    );
    this.releaseStartWaiters();
    this.restartLater('denied');
  }

  // ---- helpers ----

  private stopping(): boolean {
    return this._state === 'stopping' || this._state === 'stopped';
  }

  private setState(s: IngressState): void {
    if (this._state === s) return;
    if (this.stopping() && s !== 'stopped') return;
    this._state = s;
    for (const name of INGRESS_STATES) this.o.metrics.conversationsState.set({ state: name }, name === s ? 1 : 0);
  }

  private releaseStartWaiters(): void {
    const waiters = this.startWaiters;
    this.startWaiters = [];
    for (const w of waiters) w();
  }

  private clearTimer(which: 'restartTimer' | 'deniedTimer'): void {
    const t = this[which];
    if (t) this.clock.clearTimeout(t);
    this[which] = undefined;
  }

  /**
   * A backfill fetch that gives up after `fetchTimeoutMs` or when `signal`
   * aborts. The SDK's own request can hang for 30 s when the socket it went
   * out on was closed by a `close` frame; its late outcome is ignored.
   */
  private bounded<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    p.catch(() => undefined);
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        reject(new Error(`backfill fetch took longer than ${this.o.fetchTimeoutMs} ms`));
      }, this.o.fetchTimeoutMs);
      const onAbort = () => {
        this.clock.clearTimeout(timer);
        reject(new Error('backfill fetch abandoned'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          this.clock.clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          this.clock.clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private within(ms: number, p: Promise<unknown>): Promise<boolean> {
    return finishesWithin(p, ms, this.clock);
  }
}
