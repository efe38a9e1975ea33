import type { WebSocket } from 'ws';
import type { ConversationsBackend } from './conversations-backend';
import type { SyncEvent } from './sync-store';
import { routeTunnelRequest, SUBSCRIPTIONS_PATH, type TunnelResponse } from './tunnel-router';
import { decodeFrame, encodeFrame, type TwilsockHeader } from './twilsock-frame';

/**
 * One client socket, speaking twilsock V3: `init` (token check), `update`
 * (new token), tunnelled HTTP `message`s, Sync subscriptions with replay from
 * `last_event_id`, and server pushes (notifications, `client_update`,
 * `close`). Acks (`reply` frames from the client) need no answer.
 */
export type AuthResult =
  | { ok: true; identity: string; expiresAt: number }
  | { ok: false; code: 401 | 403; errorCode: number; description: string };

export interface SessionContext {
  backend: ConversationsBackend;
  authorize(token: string): AuthResult;
  /** Extra behaviour for a tunnelled request (fault injection); undefined = answer normally. */
  intercept?(req: { path: string; method: string }): TunnelResponse | undefined;
  /** Real-time timers for token expiry: the SDK runs on real time, so must its server. */
  tokenTimers: boolean;
  /** How long before expiry `token_about_to_expire` is pushed (Twilio: 3 minutes). */
  aboutToExpireLeadMs: number;
  /** `estimated_delivery_in_ms` of subscription replies. */
  estimatedDeliveryMs: number;
  onClosed(session: TwilsockSession): void;
  onFrame?(session: TwilsockSession, header: TwilsockHeader): void;
}

interface Subscription {
  sid: string;
  correlationId: number;
}

const HTTP_STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class TwilsockSession {
  identity: string | undefined;
  initialized = false;
  private expiresAt = 0;
  private readonly subscriptions = new Map<string, Subscription>();
  private seq = 0;
  private aboutToExpireTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private readonly unlisten: () => void;
  private closed = false;
  /** Frames the client sent, for tests (method + path). */
  readonly received: string[] = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.onMessage(data));
    ws.on('close', () => this.cleanup());
    ws.on('error', () => this.cleanup());
    this.unlisten = ctx.backend.sync.onEvent((e) => this.onSyncEvent(e));
  }

  get subscribedSids(): string[] {
    return [...this.subscriptions.keys()];
  }

  /** Pushes `client_update token_about_to_expire`, as Twilio does three minutes before expiry. */
  warnTokenAboutToExpire(): void {
    this.send({ method: 'client_update', id: this.nextId(), client_update_type: 'token_about_to_expire' });
  }

  /** Closes the session as Twilio does when the token expired: `close` 410, then the socket. */
  expire(): void {
    this.sendClose(410, 'Token expired', 20104, 'Access Token expired or expiration date invalid');
  }

  /** Closes the session with a 401 (e.g. the key was revoked). */
  revoke(): void {
    this.sendClose(401, 'Unauthorized', 20101, 'Invalid Access Token');
  }

  /** Drops the TCP connection without a goodbye (a network failure). */
  drop(): void {
    this.ws.terminate();
    this.cleanup();
  }

  close(): void {
    this.ws.close();
    this.cleanup();
  }

  private sendClose(code: number, status: string, errorCode: number, description: string): void {
    this.send({ method: 'close', id: this.nextId(), status: { code, status, errorCode, description } });
    // The client closes its side on `close`; make sure the socket goes away even if it does not.
    this.closeTimer = setTimeout(() => this.drop(), 3000);
    this.closeTimer.unref();
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[]): void {
    let frame;
    try {
      frame = decodeFrame(data);
    } catch {
      this.send({ method: 'close', id: this.nextId(), status: { code: 406, status: 'Not Acceptable' } });
      return;
    }
    const { header, payload } = frame;
    this.ctx.onFrame?.(this, header);
    switch (header.method) {
      case 'init':
        this.received.push('init');
        return this.onInit(header);
      case 'update':
        this.received.push('update');
        return this.onUpdate(header);
      case 'message':
        return this.onTunnel(header, payload);
      case 'put_notification_ctx':
      case 'delete_notification_ctx':
        return this.reply(header.id, 200);
      case 'close':
        this.received.push('close');
        return this.close();
      default:
        // `reply` acks our pushes; telemetry needs no answer.
        return;
    }
  }

  private onInit(header: TwilsockHeader): void {
    const auth = this.ctx.authorize(typeof header.token === 'string' ? header.token : '');
    if (!auth.ok) {
      this.send({
        method: 'reply',
        id: header.id,
        status: {
          code: auth.code,
          status: HTTP_STATUS_TEXT[auth.code],
          errorCode: auth.errorCode,
          description: auth.description,
        },
      });
      return;
    }
    this.identity = auth.identity;
    this.initialized = true;
    this.armTokenTimers(auth.expiresAt);
    const registrations = Array.isArray(header.registrations)
      ? (header.registrations as Record<string, unknown>[])
      : [];
    this.send({
      method: 'reply',
      id: header.id,
      status: { code: 200, status: 'OK' },
      capabilities: ['client_update', 'offline_storage'],
      continuation_token: `CT${this.nextId()}`,
      continuation_token_status: { reissued: true, reissue_reason: 'MISSING' },
      offline_storage: { ip_messaging: { storage_id: `sim-${auth.identity}` } },
      init_registrations: registrations.map((r) => ({ ...r, notification_ctx_id: `ctx-${this.nextId()}` })),
    });
  }

  private onUpdate(header: TwilsockHeader): void {
    const auth = this.ctx.authorize(typeof header.token === 'string' ? header.token : '');
    if (!auth.ok || auth.identity !== this.identity) {
      const fail = auth.ok
        ? { code: 403, status: 'Forbidden', errorCode: 20101, description: 'Identity changed' }
        : {
            code: auth.code,
            status: HTTP_STATUS_TEXT[auth.code],
            errorCode: auth.errorCode,
            description: auth.description,
          };
      this.send({ method: 'reply', id: header.id, status: fail });
      return;
    }
    this.armTokenTimers(auth.expiresAt);
    this.reply(header.id, 200);
  }

  private onTunnel(header: TwilsockHeader, payload: unknown): void {
    const req = (header.http_request ?? {}) as {
      host?: string;
      path?: string;
      method?: string;
      params?: Record<string, string | string[]>;
    };
    const path = req.path ?? '';
    const method = req.method ?? 'GET';
    this.received.push(`${method} ${path}`);
    if (!this.initialized || this.identity === undefined) {
      this.reply(header.id, 401);
      return;
    }
    const injected = this.ctx.intercept?.({ path, method });
    if (injected) return this.replyHttp(header.id, injected);
    const body = typeof payload === 'string' && payload !== '' ? (JSON.parse(payload) as unknown) : payload;
    if (path === SUBSCRIPTIONS_PATH && method === 'POST') return this.onSubscriptions(header.id, body);
    const res = routeTunnelRequest(this.ctx.backend, this.identity, {
      host: req.host ?? '',
      path,
      method,
      params: req.params ?? {},
      body,
    });
    this.replyHttp(header.id, res);
  }

  /**
   * `establish`: answer 202, then replay every event after the client's
   * `last_event_id` and confirm with `subscription_established`. All of it is
   * written before any later live event, so nothing is missed or reordered.
   */
  private onSubscriptions(id: string, body: unknown): void {
    const b = (body ?? {}) as {
      action?: string;
      correlation_id?: number;
      requests?: { object_sid: string; object_type: string; last_event_id?: number }[];
    };
    const correlationId = b.correlation_id ?? 0;
    // The SDK re-checks delivery after `estimated_delivery_in_ms` on a timer it
    // never cancels (Twilio says 10 s); replies here are immediate, so a short
    // estimate keeps a stopped client from lingering that long.
    this.replyHttp(id, {
      code: 202,
      body: { estimated_delivery_in_ms: this.ctx.estimatedDeliveryMs, max_batch_size: 100, ttl_in_s: -1 },
    });
    for (const r of b.requests ?? []) {
      const obj = this.ctx.backend.sync.getBySid(r.object_sid);
      if (b.action === 'cancel') {
        this.subscriptions.delete(r.object_sid);
        this.notifySync(
          'subscription_canceled',
          { object_sid: r.object_sid, object_type: r.object_type },
          correlationId,
        );
        continue;
      }
      if (!obj) {
        this.notifySync(
          'subscription_failed',
          {
            object_sid: r.object_sid,
            object_type: r.object_type,
            error: { status: 404, code: 54100, message: 'Not found' },
          },
          correlationId,
        );
        continue;
      }
      this.subscriptions.set(obj.sid, { sid: obj.sid, correlationId });
      const since = typeof r.last_event_id === 'number' ? r.last_event_id : obj.lastEventId;
      for (const e of this.ctx.backend.sync.eventsAfter(obj.sid, since))
        this.notifySync(e.eventType, e.event, correlationId);
      this.notifySync(
        'subscription_established',
        { object_sid: obj.sid, object_type: obj.type, replay_status: 'completed', last_event_id: obj.lastEventId },
        correlationId,
      );
    }
  }

  private onSyncEvent(e: SyncEvent): void {
    if (this.closed || !this.subscriptions.has(e.objectSid)) return;
    this.notifySync(e.eventType, e.event);
  }

  private notifySync(eventType: string, event: Record<string, unknown>, correlationId?: number): void {
    this.send(
      {
        method: 'notification',
        id: this.nextId(),
        message_type: 'twilio.sync.event',
        notification_ctx_id: '',
      },
      {
        event_type: eventType,
        ...(correlationId !== undefined ? { correlation_id: correlationId } : {}),
        event_protocol_version: 4,
        event,
      },
    );
  }

  private replyHttp(id: string, res: TunnelResponse): void {
    this.send(
      {
        method: 'reply',
        id,
        status: { code: 200, status: 'OK' },
        http_status: { code: res.code, status: HTTP_STATUS_TEXT[res.code] ?? 'Unknown' },
        http_headers: { 'content-type': 'application/json' },
      },
      res.body ?? {},
    );
  }

  private reply(id: string, code: number): void {
    this.send({ method: 'reply', id, status: { code, status: HTTP_STATUS_TEXT[code] ?? 'Unknown' } });
  }

  private send(header: TwilsockHeader, payload?: unknown): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeFrame(header, payload));
  }

  private armTokenTimers(expiresAt: number): void {
    this.expiresAt = expiresAt;
    clearTimeout(this.aboutToExpireTimer);
    clearTimeout(this.expiryTimer);
    if (!this.ctx.tokenTimers) return;
    const left = this.expiresAt - Date.now();
    this.aboutToExpireTimer = setTimeout(
      () => this.warnTokenAboutToExpire(),
      Math.max(0, left - this.ctx.aboutToExpireLeadMs),
    );
    this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, left));
    this.aboutToExpireTimer.unref();
    this.expiryTimer.unref();
  }

  private nextId(): string {
    return `TMsim${++this.seq}`;
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.aboutToExpireTimer);
    clearTimeout(this.expiryTimer);
    clearTimeout(this.closeTimer);
    this.unlisten();
    this.subscriptions.clear();
    this.ctx.onClosed(this);
  }
}
