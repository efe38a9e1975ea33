import twilio from 'twilio';
import WebSocket from 'ws';
import { ConversationsSimulator } from '../../../src/conversations/conversations-simulator';
import { decodeFrame, encodeFrame, type TwilsockFrame } from '../../../src/conversations/twilsock-frame';

const AC = 'AC' + '1'.repeat(32);
const SK = 'SK' + '2'.repeat(32);
const IS = 'IS' + '3'.repeat(32);

function token(identity: string, secret = 'secret', ttl = 600): string {
  const t = new twilio.jwt.AccessToken(AC, SK, secret, { identity, ttl });
  t.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: IS }));
  return t.toJwt();
}

/** A raw twilsock client: sends frames, collects what the server pushes. */
class RawClient {
  readonly frames: TwilsockFrame[] = [];
  private waiters: (() => void)[] = [];
  private seq = 0;
  closed = false;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeFrame(data));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new RawClient(ws);
  }

  send(header: Record<string, unknown>, payload?: unknown): string {
    const id = `TM${++this.seq}`;
    this.ws.send(encodeFrame({ ...header, id, method: String(header.method) }, payload));
    return id;
  }

  async next(pred: (f: TwilsockFrame) => boolean): Promise<TwilsockFrame> {
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed) throw new Error('socket closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  reply(id: string) {
    return this.next((f) => f.header.method === 'reply' && f.header.id === id);
  }

  async request(path: string, method = 'GET', body?: unknown) {
    const id = this.send(
      { method: 'message', http_request: { host: 'cds.us1.twilio.com', path, method, params: {}, headers: {} } },
      body,
    );
    return this.reply(id);
  }
}

describe('ConversationsSimulator socket', () => {
  let sim: ConversationsSimulator;
  const clients: RawClient[] = [];
  const open = async () => {
    const c = await RawClient.open(sim.socketUrl);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    sim = new ConversationsSimulator({
      accountSid: AC,
      serviceSid: IS,
      apiKeys: { [SK]: 'secret' },
      tokenTimers: false,
    });
    await sim.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await sim.stop();
  });

  it('accepts a valid token at init and answers tunnelled requests only after it', async () => {
    const c = await open();
    expect((await c.request('/Client/v2/Configuration')).header.status).toMatchObject({ code: 401 });
    const init = await c.reply(c.send({ method: 'init', token: token('bot'), registrations: [] }));
    expect(init.header.status).toEqual({ code: 200, status: 'OK' });
    const conf = await c.request('/Client/v2/Configuration');
    expect(conf.header.http_status).toMatchObject({ code: 200 });
    expect(conf.payload).toMatchObject({
      identity: 'bot',
      sync_objects: { my_conversations: expect.stringMatching(/^MP/) },
    });
  });

  it('denies a token signed with the wrong secret (401, 20101), an expired one (20104) and a denied identity', async () => {
    const c = await open();
    const bad = await c.reply(c.send({ method: 'init', token: token('bot', 'wrong') }));
    expect(bad.header.status).toMatchObject({ code: 401, errorCode: 20101 });
    const expired = new twilio.jwt.AccessToken(AC, SK, 'secret', { identity: 'bot', ttl: 60, nbf: 0 });
    expired.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: IS }));
    const jwt = expired.toJwt();
    const [h, p] = jwt.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { exp: number };
    payload.exp = Math.floor(Date.now() / 1000) - 10;
    const crypto = await import('node:crypto');
    const body = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const sig = crypto.createHmac('sha256', 'secret').update(body).digest('base64url');
    const old = await c.reply(c.send({ method: 'init', token: `${body}.${sig}` }));
    expect(old.header.status).toMatchObject({ code: 401, errorCode: 20104 });
    sim.denyIdentity('bot');
    const denied = await c.reply(c.send({ method: 'init', token: token('bot') }));
    expect(denied.header.status).toMatchObject({ code: 401, errorCode: 20101 });
  });

  it('replays what a subscriber missed after its last_event_id, then confirms the subscription', async () => {
    const conv = sim.createConversation();
    sim.joinIdentity(conv.sid, 'bot');
    const first = sim.addMessage(conv.sid, '+15550001111', 'one');
    const lastSeen = conv.messageList.lastEventId;
    sim.addMessage(conv.sid, '+15550001111', 'two');
    const c = await open();
    await c.reply(c.send({ method: 'init', token: token('bot') }));
    const sub = await c.request('/v4/Subscriptions', 'POST', {
      action: 'establish',
      correlation_id: 42,
      requests: [{ object_sid: conv.messageList.sid, object_type: 'list', last_event_id: lastSeen }],
    });
    expect(sub.header.http_status).toMatchObject({ code: 202 });
    const established = await c.next(
      (f) => (f.payload as { event_type?: string })?.event_type === 'subscription_established',
    );
    const events = c.frames
      .filter((f) => f.header.method === 'notification')
      .map(
        (f) => f.payload as { event_type: string; correlation_id?: number; event: { item_data?: { text: string } } },
      );
    expect(events.map((e) => e.event_type)).toEqual(['list_item_added', 'subscription_established']);
    expect(events[0]!.event.item_data?.text).toBe('two');
    expect(events.every((e) => e.correlation_id === 42)).toBe(true);
    expect(established.header).toMatchObject({ message_type: 'twilio.sync.event' });
    // Live events follow, without a correlation id.
    sim.addMessage(conv.sid, '+15550001111', 'three');
    const live = await c.next(
      (f) => (f.payload as { event?: { item_data?: { text?: string } } })?.event?.item_data?.text === 'three',
    );
    expect(live.payload).not.toHaveProperty('correlation_id');
    expect(first.index).toBe(0);
  });

  it('pushes token_about_to_expire, and close 410 on expiry; fails matching requests on demand', async () => {
    const c = await open();
    await c.reply(c.send({ method: 'init', token: token('bot') }));
    sim.failRequests(/Configuration/, 503, 1);
    expect((await c.request('/Client/v2/Configuration')).header.http_status).toMatchObject({ code: 503 });
    expect((await c.request('/Client/v2/Configuration')).header.http_status).toMatchObject({ code: 200 });
    sim.warnTokensAboutToExpire();
    await c.next((f) => f.header.method === 'client_update' && f.header.client_update_type === 'token_about_to_expire');
    sim.expireTokens();
    const close = await c.next((f) => f.header.method === 'close');
    expect(close.header.status).toMatchObject({ code: 410 });
  });

  it('accepts a new token for the same identity (update) and refuses one for another', async () => {
    const c = await open();
    await c.reply(c.send({ method: 'init', token: token('bot') }));
    expect(
      (await c.reply(c.send({ method: 'update', token: token('bot', 'secret', 900) }))).header.status,
    ).toMatchObject({
      code: 200,
    });
    expect((await c.reply(c.send({ method: 'update', token: token('other') }))).header.status).toMatchObject({
      code: 403,
    });
  });

  it('drops sockets on demand', async () => {
    const c = await open();
    await c.reply(c.send({ method: 'init', token: token('bot') }));
    sim.dropConnections();
    await expect(c.next(() => false)).rejects.toThrow('socket closed');
    expect(sim.sessions).toHaveLength(0);
  });
});
