import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net, { type AddressInfo } from 'node:net';
import {
  CONNECT_TIMEOUT_CODE,
  createEgressTwilioClient,
  LeanRequestClient,
} from '../../../../src/twilio/egress/lean-request-client';
import { keepRetryAfter } from '../../../../src/twilio/egress/retry-after-hook';
import { classifySendError } from '../../../../src/twilio/egress/classify-send-error';
import { TwilioMessagesAdapter } from '../../../../src/twilio/egress/twilio-messages-adapter';

const ACCOUNT = 'AC' + '4'.repeat(32);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A tiny Twilio stand-in: records requests and answers with what the test queued. */
async function server(answers: ((req: Seen, res: http.ServerResponse) => void)[]) {
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      (answers.shift() ?? ((_s, r) => r.writeHead(500).end()))(s, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { seen, base, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const message = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    sid: 'SM' + '1'.repeat(32),
    account_sid: ACCOUNT,
    to: '+14155550123',
    from: '+14155550100',
    body: 'hi',
    status: 'queued',
    direction: 'outbound-api',
    num_segments: '1',
    num_media: '2',
    messaging_service_sid: null,
    error_code: null,
    date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
    date_sent: null,
    ...over,
  });

describe('LeanRequestClient (the SDK transport egress uses)', () => {
  it('carries the SDK’s create: form body with repeated MediaUrl, Basic auth, rewritten base URL; parses the answer', async () => {
    const s = await server([(_q, r) => r.writeHead(201, { 'content-type': 'application/json' }).end(message())]);
    try {
      const client = createEgressTwilioClient({
        accountSid: ACCOUNT,
        authToken: 'secret-token',
        apiBaseUrl: `${s.base}/prefix`,
        timeoutMs: 2_000,
        maxSockets: 10,
      });
      const m = await new TwilioMessagesAdapter(client).create({
        accountSid: ACCOUNT,
        to: '+14155550123',
        from: '+14155550100',
        body: 'hi & bye',
        mediaUrls: ['https://a.example/1.png', 'https://a.example/2.png'],
        sendAt: new Date('2024-05-02T09:00:00Z'),
        smartEncoded: true,
      });
      expect(m).toMatchObject({ sid: 'SM' + '1'.repeat(32), numSegments: 1, numMedia: 2, status: 'queued' });
      expect(m.dateCreated?.toISOString()).toBe('2023-08-24T05:01:45.000Z');
      const req = s.seen[0]!;
      expect(req.method).toBe('POST');
      expect(req.url).toBe(`/prefix/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT}:secret-token`).toString('base64')}`);
      const form = new URLSearchParams(req.body);
      expect(form.getAll('MediaUrl')).toEqual(['https://a.example/1.png', 'https://a.example/2.png']);
      expect(form.get('Body')).toBe('hi & bye');
      expect(form.get('ScheduleType')).toBe('fixed');
      expect(form.get('SendAt')).toBe('2024-05-02T09:00:00Z');
      expect(form.get('SmartEncoded')).toBe('true');
    } finally {
      await s.close();
    }
  });

  it('sends list filters as query parameters (DateSent>) and follows next_page_uri', async () => {
    const page = (messages: string[], next: string | null) =>
      JSON.stringify({ messages: messages.map((x) => JSON.parse(x)), next_page_uri: next, page: 0, page_size: 1 });
    const s = await server([
      (_q, r) =>
        r.writeHead(200).end(page([message()], `/2010-04-01/Accounts/${ACCOUNT}/Messages.json?Page=1&PageSize=1`)),
      (_q, r) => r.writeHead(200).end(page([message({ sid: 'SM' + '2'.repeat(32) })], null)),
    ]);
    try {
      const client = createEgressTwilioClient({
        accountSid: ACCOUNT,
        authToken: 't',
        apiBaseUrl: s.base,
        timeoutMs: 2_000,
        maxSockets: 2,
      });
      const list = await new TwilioMessagesAdapter(client).list({
        accountSid: ACCOUNT,
        to: '+14155550123',
        dateSentAfter: new Date('2024-01-01T00:00:00Z'),
        limit: 5,
        pageSize: 1,
      });
      expect(list.map((m) => m.sid)).toEqual(['SM' + '1'.repeat(32), 'SM' + '2'.repeat(32)]);
      const q = new URL(s.seen[0]!.url, s.base).searchParams;
      expect(q.get('To')).toBe('+14155550123');
      expect(q.get('DateSent>')).toBe('2024-01-01T00:00:00Z');
      expect(s.seen[1]!.url).toContain('Page=1');
    } finally {
      await s.close();
    }
  });

  it('keeps a 429’s Retry-After for the error map, and times out as an ambiguous ECONNABORTED', async () => {
    const s = await server([
      (_q, r) =>
        r
          .writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 20429, message: 'Too Many Requests', status: 429 })),
      () => undefined, // never answers
    ]);
    try {
      const client = createEgressTwilioClient({
        accountSid: ACCOUNT,
        authToken: 't',
        apiBaseUrl: s.base,
        timeoutMs: 200,
        maxSockets: 2,
      });
      keepRetryAfter(client);
      const port = new TwilioMessagesAdapter(client);
      const err429 = await port
        .create({ accountSid: ACCOUNT, to: '+14155550123', body: 'x', from: '+14155550100' })
        .catch((e: unknown) => e);
      expect(classifySendError(err429)).toMatchObject({ type: 'rate_limited', retriable: true, retryAfterMs: 3_000 });
      const errTimeout = await port
        .create({ accountSid: ACCOUNT, to: '+14155550123', body: 'y', from: '+14155550100' })
        .catch((e: unknown) => e);
      expect(classifySendError(errTimeout)).toMatchObject({
        type: 'timeout',
        retriable: true,
        ambiguous: true,
        outage: true,
      });
    } finally {
      await s.close();
    }
  });

  it('gives up on a connection not established within the connect timeout: not ambiguous, credentials not sent', async () => {
    // Accepts TCP but never answers the TLS handshake: the connection is never established.
    const bytes: Buffer[] = [];
    const sockets = new Set<net.Socket>();
    const tcp = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (b: Buffer) => bytes.push(b));
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    try {
      const port = (tcp.address() as AddressInfo).port;
      const client = createEgressTwilioClient({
        accountSid: ACCOUNT,
        authToken: 'secret-token',
        apiBaseUrl: `https://127.0.0.1:${port}`,
        timeoutMs: 10_000,
        connectTimeoutMs: 100,
        maxSockets: 1,
      });
      const started = Date.now();
      const err = await new TwilioMessagesAdapter(client)
        .create({ accountSid: ACCOUNT, to: '+14155550123', body: 'x', from: '+14155550100' })
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe(CONNECT_TIMEOUT_CODE);
      expect(Date.now() - started).toBeLessThan(5_000); // the connect timeout, not the request's 10 s
      expect(classifySendError(err)).toMatchObject({
        type: 'timeout',
        retriable: true,
        ambiguous: false,
        outage: true,
      });
      // Only a TLS ClientHello reached the server: no HTTP request, no Authorization header.
      expect(Buffer.concat(bytes).toString('latin1')).not.toMatch(/POST|Authorization|secret-token/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => tcp.close(r));
    }
  });

  it('lets an established connection wait past the connect timeout for a slow answer (the request timeout applies)', async () => {
    const s = await server([
      (_q, r) => {
        setTimeout(() => r.writeHead(201, { 'content-type': 'application/json' }).end(message()), 300);
      },
    ]);
    try {
      const client = createEgressTwilioClient({
        accountSid: ACCOUNT,
        authToken: 't',
        apiBaseUrl: s.base,
        timeoutMs: 5_000,
        connectTimeoutMs: 50,
        maxSockets: 1,
      });
      const sent = await new TwilioMessagesAdapter(client).create({
        accountSid: ACCOUNT,
        to: '+14155550123',
        body: 'x',
        from: '+14155550100',
      });
      expect(sent.sid).toBe('SM' + '1'.repeat(32));
    } finally {
      await s.close();
    }
  });

  it('pools at most maxSockets keep-alive connections and closes one left idle for the idle timeout', async () => {
    const s = await server([(_q, r) => r.writeHead(201, { 'content-type': 'application/json' }).end(message())]);
    const c = new LeanRequestClient({ apiBaseUrl: s.base, timeoutMs: 2_000, maxSockets: 3, idleTimeoutMs: 50 });
    expect(c.httpAgent.maxSockets).toBe(3);
    expect((c.httpAgent as unknown as { options: object }).options).toMatchObject({ keepAlive: true, timeout: 50 });
    try {
      const res = await c.request({
        method: 'post',
        uri: 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages.json',
        username: ACCOUNT,
        password: 't',
      });
      expect(res.statusCode).toBe(201);
      // The socket went back to the free pool; the idle timeout closes it (an event, not a sleep).
      const free = Object.values(c.httpAgent.freeSockets).flat();
      expect(free).toHaveLength(1);
      await new Promise<void>((r) => free[0]!.once('close', () => r()));
      expect(Object.values(c.httpAgent.freeSockets).flat()).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('talks to https://api.twilio.com unchanged when no other base URL is configured', () => {
    const c = new LeanRequestClient({ apiBaseUrl: 'https://api.twilio.com/', timeoutMs: 1, maxSockets: 1 });
    expect((c as unknown as { base: URL | undefined }).base).toBeUndefined();
  });

  it('verifies the certificate and asks for TLS 1.2 or newer: a self-signed https endpoint is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ie-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      let hits = 0;
      const server = https.createServer(
        { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
        (_req, res) => {
          hits++;
          res.end('{}');
        },
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const port = (server.address() as AddressInfo).port;
        const c = new LeanRequestClient({ apiBaseUrl: `https://127.0.0.1:${port}`, timeoutMs: 2_000, maxSockets: 1 });
        const agent = (c as unknown as { agent: https.Agent }).agent;
        expect(agent.options).toMatchObject({ minVersion: 'TLSv1.2', rejectUnauthorized: true });
        const err = await c
          .request({
            method: 'get',
            uri: 'https://api.twilio.com/2010-04-01/Accounts.json',
            username: 'AC',
            password: 'x',
          })
          .catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
        // The credentials never reached the server.
        expect(hits).toBe(0);
      } finally {
        await new Promise((r) => server.close(r));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
