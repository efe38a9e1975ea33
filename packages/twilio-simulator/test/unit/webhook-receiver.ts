import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny webhook endpoint for tests: records every request (headers, parsed
 * form, raw body) and answers from a script (status codes, or `hang`).
 */
export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  params: Record<string, string>;
  raw: string;
}

export type Reply = number | 'hang' | 'reset';

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private script: Reply[] = [];
  private fallbackReply: Reply = 200;
  private readonly hung = new Set<http.ServerResponse>();
  private waiters: { count: number; resolve: () => void }[] = [];
  url = '';

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the next requests with these replies in order, then with `then` (default 200). */
  reply(script: Reply[], then: Reply = 200): void {
    this.script = [...script];
    this.fallbackReply = then;
  }

  /** Resolves once `count` requests in total have arrived. */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      this.received.push({
        path: req.url ?? '/',
        headers: req.headers,
        params: Object.fromEntries(new URLSearchParams(raw)),
        raw,
      });
      this.waiters = this.waiters.filter((w) => {
        if (this.received.length < w.count) return true;
        w.resolve();
        return false;
      });
      const reply = this.script.shift() ?? this.fallbackReply;
      if (reply === 'hang') {
        this.hung.add(res);
        return;
      }
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply, { 'content-type': 'text/xml' });
      res.end('<Response/>');
    });
  }
}
