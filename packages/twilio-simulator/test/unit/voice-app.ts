import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateRequest } from 'twilio/lib/webhooks/webhooks';

/**
 * A tiny voice application for tests: answers TwiML per path (or 204 for
 * callbacks), records every request with its parameters and whether its
 * X-Twilio-Signature is valid for the token.
 */
export interface VoiceRequest {
  path: string;
  params: Record<string, string>;
  signed: boolean;
}

export class VoiceApp {
  readonly requests: VoiceRequest[] = [];
  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private readonly twiml = new Map<string, string | number>();
  url = '';

  constructor(private readonly authToken: string) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** What a path answers (exact path with query first, then without): a TwiML document or a status code. */
  on(path: string, answer: string | number): void {
    this.twiml.set(path, answer);
  }

  reset(): void {
    this.requests.length = 0;
    this.twiml.clear();
  }

  at(path: string): VoiceRequest[] {
    return this.requests.filter((r) => r.path.split('?')[0] === path);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const path = req.url ?? '/';
      const signature = req.headers['x-twilio-signature'];
      const signed =
        typeof signature === 'string' && validateRequest(this.authToken, signature, `${this.url}${path}`, params);
      this.requests.push({ path, params, signed });
      const answer = this.twiml.get(path) ?? this.twiml.get(path.split('?')[0] ?? '') ?? 204;
      if (typeof answer === 'number') {
        res.writeHead(answer);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(answer);
    });
  }
}
