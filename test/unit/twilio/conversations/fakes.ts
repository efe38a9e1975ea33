import type {
  ConversationMessage,
  ConversationsAdapter,
  ConversationsSession,
  SessionListener,
  SessionState,
} from '../../../../src/twilio/conversations/conversations-adapter';
import type { MintedToken, TokenProvider } from '../../../../src/twilio/conversations/access-token-provider';
import { createLogger, type Logger } from '../../../../src/observability';

export const ACCOUNT = 'AC' + 'a'.repeat(32);
export const SERVICE = 'IS' + 'b'.repeat(32);
export const IDENTITY = 'ingress-bot';

export const conversationSid = (n: number) => 'CH' + n.toString(16).padStart(32, '0');
export const messageSid = (conv: number, index: number) =>
  'IM' + conv.toString(16).padStart(8, '0') + index.toString(16).padStart(24, '0');

export function msg(conv: number, index: number, extra: Partial<ConversationMessage> = {}): ConversationMessage {
  return {
    conversationSid: conversationSid(conv),
    messageSid: messageSid(conv, index),
    index,
    author: '+15550001111',
    body: `message ${index}`,
    attributes: '{}',
    dateCreated: new Date(Date.UTC(2024, 0, 1, 0, 0, index)),
    participantSid: 'MB' + 'c'.repeat(32),
    media: [],
    ...extra,
  };
}

/** Resolves when `fn` is later resolved from outside. */
export function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One fake SDK session: the test drives `listener` and inspects what the client asked for. */
export class FakeSession implements ConversationsSession {
  state: SessionState = 'connecting';
  readonly tokens: string[];
  readonly horizons: [string, number][] = [];
  readonly fetches: [string, number | null][] = [];
  closed = false;
  updateTokenImpl: (token: string) => Promise<void> = async () => undefined;
  /** When set, the next fetch waits for this (to interleave live messages with a backfill). */
  gate: Promise<void> | undefined;
  failFetches = 0;
  failHorizons = 0;

  constructor(
    token: string,
    readonly listener: SessionListener,
    private readonly store: Map<string, ConversationMessage[]>,
  ) {
    this.tokens = [token];
  }

  async updateToken(token: string): Promise<void> {
    this.tokens.push(token);
    await this.updateTokenImpl(token);
  }

  async messagesAfter(sid: string, afterIndex: number | null, limit: number): Promise<ConversationMessage[]> {
    this.fetches.push([sid, afterIndex]);
    if (this.gate) {
      const g = this.gate;
      this.gate = undefined;
      await g;
    }
    if (this.failFetches > 0) {
      this.failFetches--;
      throw new Error('sync fetch failed');
    }
    const all = (this.store.get(sid) ?? []).slice().sort((a, b) => a.index - b.index);
    return afterIndex === null ? all.slice(Math.max(0, all.length - limit)) : all.filter((m) => m.index > afterIndex);
  }

  async setReadHorizon(sid: string, index: number): Promise<void> {
    if (this.failHorizons > 0) {
      this.failHorizons--;
      throw new Error('horizon write failed');
    }
    this.horizons.push([sid, index]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The SDK's happy start-up. */
  connectAndInit(): void {
    this.state = 'connected';
    this.listener.stateChanged('connected');
    this.listener.initialized();
  }
}

export class FakeAdapter implements ConversationsAdapter {
  readonly sessions: FakeSession[] = [];
  /** Messages "on Twilio", per conversation, for backfills. */
  readonly store = new Map<string, ConversationMessage[]>();
  onConnect: ((s: FakeSession) => void) | undefined;

  connect(token: string, listener: SessionListener): ConversationsSession {
    const s = new FakeSession(token, listener, this.store);
    this.sessions.push(s);
    this.onConnect?.(s);
    return s;
  }

  get last(): FakeSession {
    const s = this.sessions.at(-1);
    if (!s) throw new Error('no session yet');
    return s;
  }

  put(m: ConversationMessage): void {
    const list = this.store.get(m.conversationSid) ?? [];
    list.push(m);
    this.store.set(m.conversationSid, list);
  }
}

/** Tokens `t1`, `t2`, … issued at the fake clock's time. */
export function fakeTokens(ttlMs: number, now: () => number = Date.now): TokenProvider & { issued: MintedToken[] } {
  const issued: MintedToken[] = [];
  const provider = (() => {
    const at = now();
    const t = { jwt: `t${issued.length + 1}`, issuedAt: at, expiresAt: at + ttlMs };
    issued.push(t);
    return t;
  }) as TokenProvider & { issued: MintedToken[] };
  provider.issued = issued;
  return provider;
}

/** A logger whose lines are kept as parsed objects. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  return { logger, lines };
}

/** Lets queued promise callbacks run (no timers involved). */
export async function flush(times = 20): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}
