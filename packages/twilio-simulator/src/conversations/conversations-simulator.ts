import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { WebSocketServer } from 'ws';
import { RealClock, type SimClock } from '../clock';
import { SeededRng } from '../rng';
import { verifyAccessToken } from './access-token';
import {
  ConversationsBackend,
  type ConversationState,
  type SimConversation,
  type SimMedia,
  type SimMessage,
  type SimParticipant,
} from './conversations-backend';
import { createConversationsRestHandler } from './rest-handler';
import type { TunnelResponse } from './tunnel-router';
import { TwilsockSession, type AuthResult } from './twilsock-session';

/**
 * A local Twilio Conversations: the twilsock WebSocket the official SDK
 * connects to (`ws://host:port/v3/wsconnect`), the REST API the connector
 * calls, signed post-event webhooks, and fault switches (drop sockets, expire
 * or deny tokens, fail tunnelled requests). One HTTP server carries both.
 */
export interface ConversationsSimulatorOptions {
  accountSid: string;
  /** The Conversations (chat) service SID tokens must grant, `IS…`. */
  serviceSid: string;
  /** API key SID → secret: tokens signed with one of these are accepted. */
  apiKeys: Readonly<Record<string, string>>;
  /** Basic-auth credentials the REST API accepts; none = any. */
  restCredentials?: Readonly<Record<string, string>>;
  host?: string;
  port?: number;
  seed?: number | string;
  /** Timestamps of conversations and messages; real time by default. */
  clock?: SimClock;
  /** Push `token_about_to_expire` and close with 410 at the token's real expiry (default true). */
  tokenTimers?: boolean;
  aboutToExpireLeadMs?: number;
  identityConversationLimit?: number;
  /** `estimated_delivery_in_ms` answered to subscription requests (Twilio: 10,000; default 100). */
  estimatedDeliveryMs?: number;
  /** Post-event webhooks (`onConversationAdded`, `onMessageAdded`), signed with `authToken`. */
  webhook?: { url: string; authToken: string; events?: ('onConversationAdded' | 'onMessageAdded')[] };
}

interface RequestFault {
  path: RegExp;
  method?: string;
  status: number;
  remaining: number;
}

export class ConversationsSimulator {
  readonly backend: ConversationsBackend;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sessionSet = new Set<TwilsockSession>();
  private readonly denied = new Set<string>();
  private readonly faults: RequestFault[] = [];
  private readonly pendingWebhooks = new Set<Promise<void>>();
  private readonly restHandler: ReturnType<typeof createConversationsRestHandler>;
  private readonly clock: SimClock;
  private sessionListeners = new Set<(s: TwilsockSession) => void>();
  /** REST requests handled, as `METHOD /path`, for tests. */
  readonly restRequests: string[] = [];
  private address: AddressInfo | undefined;

  constructor(private readonly opts: ConversationsSimulatorOptions) {
    this.clock = opts.clock ?? new RealClock();
    this.backend = new ConversationsBackend({
      accountSid: opts.accountSid,
      serviceSid: opts.serviceSid,
      rng: new SeededRng(opts.seed ?? 'conversations'),
      now: () => this.clock.now(),
      ...(opts.identityConversationLimit !== undefined
        ? { identityConversationLimit: opts.identityConversationLimit }
        : {}),
    });
    this.backend.hooks = {
      conversationAdded: (c) => this.postWebhook('onConversationAdded', conversationAddedParams(this.backend, c)),
      messageAdded: (c, m) => this.postWebhook('onMessageAdded', messageAddedParams(this.backend, c, m)),
    };
    this.restHandler = createConversationsRestHandler(this.backend, {
      ...(opts.restCredentials ? { credentials: opts.restCredentials } : {}),
      onRequest: (method, path) => this.restRequests.push(`${method} ${path}`),
    });
    this.server = createServer((req, res) => void this.onHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!(req.url ?? '').startsWith('/v3/wsconnect')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new TwilsockSession(ws, {
          backend: this.backend,
          authorize: (token) => this.authorize(token),
          intercept: (r) => this.intercept(r),
          tokenTimers: opts.tokenTimers ?? true,
          aboutToExpireLeadMs: opts.aboutToExpireLeadMs ?? 180_000,
          estimatedDeliveryMs: opts.estimatedDeliveryMs ?? 100,
          onClosed: (s) => this.sessionSet.delete(s),
        });
        this.sessionSet.add(session);
        for (const l of this.sessionListeners) l(session);
      });
    });
  }

  async start(): Promise<void> {
    if (this.address) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.address = this.server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    for (const s of [...this.sessionSet]) s.drop();
    await Promise.allSettled([...this.pendingWebhooks]);
    this.wss.close();
    if (this.server.listening) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
  }

  /** `ws://127.0.0.1:PORT/v3/wsconnect`: the SDK's `{ Twilsock: { uri } }`. */
  get socketUrl(): string {
    return `ws://${this.host}/v3/wsconnect`;
  }

  /** Base URL of the REST API (stands in for https://conversations.twilio.com). */
  get restBaseUrl(): string {
    return `http://${this.host}`;
  }

  /** Mountable REST handler: answers Conversations paths, returns false for others. */
  get handleRest(): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
    return this.restHandler;
  }

  get sessions(): TwilsockSession[] {
    return [...this.sessionSet];
  }

  // ---- domain helpers for tests and the sandbox ----

  createConversation(input: { friendlyName?: string; uniqueName?: string } = {}): SimConversation {
    return this.backend.createConversation(input);
  }

  /** Adds a phone as an SMS participant (what happens when a customer texts the number). */
  addSmsParticipant(conversationSid: string, phone: string, proxyAddress?: string): SimParticipant {
    return this.backend.addParticipant(conversationSid, {
      address: phone,
      ...(proxyAddress ? { proxyAddress } : {}),
    });
  }

  joinIdentity(conversationSid: string, identity: string): SimParticipant {
    return this.backend.addParticipant(conversationSid, { identity });
  }

  /** A message arriving in the conversation (an inbound SMS when `author` is the phone). */
  addMessage(
    conversationSid: string,
    author: string,
    body: string | null,
    extra: { attributes?: string; media?: Omit<SimMedia, 'sid'>[] } = {},
  ): SimMessage {
    return this.backend.addMessage(conversationSid, { author, body, ...extra });
  }

  setState(conversationSid: string, state: ConversationState): void {
    this.backend.setState(conversationSid, state);
  }

  // ---- faults ----

  /** Drops every socket without a close frame; the SDK reconnects and replays. */
  dropConnections(): void {
    for (const s of [...this.sessionSet]) s.drop();
  }

  /** Sends `close` 410 (token expired) to every session. */
  expireTokens(): void {
    for (const s of this.sessionSet) s.expire();
  }

  warnTokensAboutToExpire(): void {
    for (const s of this.sessionSet) s.warnTokenAboutToExpire();
  }

  /** Refuses tokens for `identity` (as for a revoked API key) until `allowIdentity`. */
  denyIdentity(identity: string): void {
    this.denied.add(identity);
  }

  allowIdentity(identity: string): void {
    this.denied.delete(identity);
  }

  /** The next `times` tunnelled requests whose path matches answer `status`. */
  failRequests(path: RegExp, status: number, times = 1, method?: string): void {
    this.faults.push({ path, status, remaining: times, ...(method ? { method } : {}) });
  }

  /** Resolves with the next session that completes `init` for `identity`. */
  nextSession(identity?: string): Promise<TwilsockSession> {
    return new Promise((resolve) => {
      const listener = (s: TwilsockSession) => {
        const check = setInterval(() => {
          if (s.initialized && (identity === undefined || s.identity === identity)) {
            clearInterval(check);
            this.sessionListeners.delete(listener);
            resolve(s);
          }
        }, 5);
        check.unref();
      };
      this.sessionListeners.add(listener);
    });
  }

  private get host(): string {
    if (!this.address) throw new Error('ConversationsSimulator is not started');
    return `${this.address.address}:${this.address.port}`;
  }

  private authorize(token: string): AuthResult {
    const check = verifyAccessToken(token, {
      apiKeys: this.opts.apiKeys,
      serviceSid: this.opts.serviceSid,
      nowMs: Date.now(),
    });
    if (!check.ok) {
      return check.reason === 'expired'
        ? { ok: false, code: 401, errorCode: 20104, description: 'Access Token expired or expiration date invalid' }
        : { ok: false, code: 401, errorCode: 20101, description: `Invalid Access Token: ${check.message}` };
    }
    if (this.denied.has(check.token.identity)) {
      return { ok: false, code: 401, errorCode: 20101, description: 'Invalid Access Token: access denied' };
    }
    return { ok: true, identity: check.token.identity, expiresAt: check.token.expiresAt };
  }

  private intercept(req: { path: string; method: string }): TunnelResponse | undefined {
    const fault = this.faults.find(
      (f) => f.remaining > 0 && f.path.test(req.path) && (!f.method || f.method === req.method),
    );
    if (!fault) return undefined;
    fault.remaining--;
    return { code: fault.status, body: { code: 0, message: 'injected fault', status: fault.status } };
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (await this.restHandler(req, res)) return;
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 20404, message: 'The requested resource was not found', status: 404 }));
    } catch (err) {
      res.statusCode = 500;
      res.end(JSON.stringify({ code: 20500, message: String(err), status: 500 }));
    }
  }

  private postWebhook(event: 'onConversationAdded' | 'onMessageAdded', params: Record<string, string>): void {
    const hook = this.opts.webhook;
    if (!hook || (hook.events && !hook.events.includes(event))) return;
    const signature = twilio.getExpectedTwilioSignature(hook.authToken, hook.url, params);
    const p = fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
      // Twilio gives Conversations webhooks 5 s.
      signal: AbortSignal.timeout(5000),
    }).then(
      (r) => void r.arrayBuffer(),
      () => undefined,
    );
    this.pendingWebhooks.add(p);
    void p.finally(() => this.pendingWebhooks.delete(p));
  }
}

function conversationAddedParams(b: ConversationsBackend, c: SimConversation): Record<string, string> {
  return {
    EventType: 'onConversationAdded',
    AccountSid: b.accountSid,
    ChatServiceSid: b.serviceSid,
    ConversationSid: c.sid,
    DateCreated: c.dateCreated,
    State: c.state,
    Attributes: c.attributes,
    Source: 'API',
    RetryCount: '0',
    ...(c.friendlyName ? { FriendlyName: c.friendlyName } : {}),
    ...(c.uniqueName ? { UniqueName: c.uniqueName } : {}),
  };
}

function messageAddedParams(b: ConversationsBackend, c: SimConversation, m: SimMessage): Record<string, string> {
  return {
    EventType: 'onMessageAdded',
    AccountSid: b.accountSid,
    ChatServiceSid: b.serviceSid,
    ConversationSid: c.sid,
    MessageSid: m.sid,
    Index: String(m.index),
    DateCreated: m.dateCreated,
    Author: m.author,
    Body: m.body ?? '',
    Attributes: m.attributes,
    Source: m.author.startsWith('+') ? 'SMS' : 'SDK',
    RetryCount: '0',
    ...(m.participantSid ? { ParticipantSid: m.participantSid } : {}),
    ...(m.media.length > 0
      ? {
          Media: JSON.stringify(
            m.media.map((x) => ({ Sid: x.sid, Filename: x.filename, ContentType: x.contentType, Size: x.size })),
          ),
        }
      : {}),
  };
}
