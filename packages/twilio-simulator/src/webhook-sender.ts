import http from 'node:http';
import https from 'node:https';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { SimClock } from './clock';
import { parseWebhookUrl, type RetryClass } from './connection-overrides';

/**
 * Sends webhooks the way Twilio does: form-encoded POST, signed with the
 * twilio package's own algorithm (`X-Twilio-Signature`), an idempotency token
 * that stays the same across retries, and retries governed by the URL's
 * connection overrides. Network timeouts run on real timers: they bound real
 * socket work, not simulated time.
 */
export type WebhookKind =
  | 'inbound'
  | 'inbound-fallback'
  | 'status-callback'
  /** Voice: the number's "A call comes in" URL, a created call's Url, a `<Redirect>`. */
  | 'voice'
  | 'call-status'
  /** `<Dial action>` and `<Record action>` requests (they answer TwiML). */
  | 'dial-action'
  | 'record-action'
  | 'recording-status'
  | 'transcription';

export interface WebhookAttempt {
  attempt: number;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Failure class when the attempt failed (null on success or an unclassified 3xx). */
  failure: RetryClass | null;
  /** Network error code or reason (e.g. ECONNREFUSED, read timeout). */
  error: string | null;
  durationMs: number;
}

export interface WebhookDelivery {
  kind: WebhookKind;
  /** The URL as configured, fragment included. */
  configuredUrl: string;
  /** The URL requested and signed (no fragment). */
  url: string;
  /** The SID the webhook is about (MessageSid, or CallSid for voice). */
  messageSid: string;
  params: Record<string, string>;
  signature: string;
  idempotencyToken: string;
  attempts: WebhookAttempt[];
  delivered: boolean;
  /** Status of the last attempt. */
  status: number | null;
  responseBody: string | null;
  /** Simulated time the delivery started. */
  startedAt: Date;
}

export interface WebhookRequest {
  kind: WebhookKind;
  url: string;
  params: Record<string, string>;
  authToken: string;
  messageSid: string;
  idempotencyToken: string;
}

export interface WebhookSenderOptions {
  clock: SimClock;
  defaultRetryPolicy: readonly RetryClass[];
  /** Sign the URL including its fragment (Twilio strips it; kept as an option for experiments). */
  signFragment: boolean;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

interface AttemptResult {
  status: number | null;
  body: string | null;
  failure: RetryClass | null;
  error: string | null;
}

export class WebhookSender {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly liveRequests = new Set<http.ClientRequest>();
  private closed = false;

  constructor(private readonly options: WebhookSenderOptions) {}

  /** Resolves when every delivery started so far has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  deliver(request: WebhookRequest): Promise<WebhookDelivery> {
    const p = this.run(request);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  close(): void {
    this.closed = true;
    for (const req of this.liveRequests) req.destroy(new Error('simulator stopped'));
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async run(request: WebhookRequest): Promise<WebhookDelivery> {
    const { url, overrides } = parseWebhookUrl(request.url, this.options.defaultRetryPolicy);
    const signedUrl = this.options.signFragment ? request.url : url;
    const signature = getExpectedTwilioSignature(request.authToken, signedUrl, request.params);
    const body = new URLSearchParams(request.params).toString();
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      accept: '*/*',
      'x-twilio-signature': signature,
      'i-twilio-idempotency-token': request.idempotencyToken,
      'x-home-region': 'us1',
    };
    const delivery: WebhookDelivery = {
      kind: request.kind,
      configuredUrl: request.url,
      url,
      messageSid: request.messageSid,
      params: request.params,
      signature,
      idempotencyToken: request.idempotencyToken,
      attempts: [],
      delivered: false,
      status: null,
      responseBody: null,
      startedAt: new Date(this.options.clock.now()),
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      delivery.attempts.push({ attempt: 1, status: null, failure: null, error: 'invalid URL', durationMs: 0 });
      return delivery;
    }
    const deadline = Date.now() + overrides.totalTimeoutMs;
    for (let attempt = 1; attempt <= overrides.retryCount + 1; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) break;
      const started = Date.now();
      const result = await this.attempt(
        target,
        body,
        headers,
        Math.min(overrides.connectTimeoutMs, remaining),
        Math.min(overrides.readTimeoutMs, remaining),
      );
      delivery.attempts.push({
        attempt,
        status: result.status,
        failure: result.failure,
        error: result.error,
        durationMs: Date.now() - started,
      });
      delivery.status = result.status;
      delivery.responseBody = result.body;
      if (result.status !== null && result.status >= 200 && result.status < 300) {
        delivery.delivered = true;
        break;
      }
      if (result.failure === null || !overrides.retryPolicy.has(result.failure)) break;
    }
    return delivery;
  }

  private async attempt(
    target: URL,
    body: string,
    headers: Record<string, string>,
    connectTimeoutMs: number,
    readTimeoutMs: number,
  ): Promise<AttemptResult> {
    const first = await this.attemptOnce(target, body, headers, connectTimeoutMs, readTimeoutMs);
    // A pooled keep-alive socket the server closed meanwhile fails at once; that
    // is our pool's artefact, not a delivery failure, so try once on a fresh one.
    if (first.reused && first.result.error === 'ECONNRESET' && first.result.status === null) {
      return (await this.attemptOnce(target, body, headers, connectTimeoutMs, readTimeoutMs)).result;
    }
    return first.result;
  }

  private attemptOnce(
    target: URL,
    body: string,
    headers: Record<string, string>,
    connectTimeoutMs: number,
    readTimeoutMs: number,
  ): Promise<{ result: AttemptResult; reused: boolean }> {
    return new Promise((resolve) => {
      const isHttps = target.protocol === 'https:';
      const req = (isHttps ? https : http).request(target, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: isHttps ? this.httpsAgent : this.httpAgent,
      });
      this.liveRequests.add(req);
      let connected = false;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = (ms: number, reason: string) => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          finish({ status: null, body: null, failure: connected ? 'rt' : 'ct', error: reason });
          req.destroy();
        }, ms);
      };
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.liveRequests.delete(req);
        resolve({ result, reused: req.reusedSocket });
      };
      arm(connectTimeoutMs, 'connect timeout');
      req.on('socket', (socket) => {
        const onConnect = () => {
          connected = true;
          arm(readTimeoutMs, 'read timeout');
        };
        if (socket.connecting) socket.once(isHttps ? 'secureConnect' : 'connect', onConnect);
        else onConnect();
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          finish({
            status,
            body: Buffer.concat(chunks).toString('utf8'),
            failure: status >= 500 ? '5xx' : status >= 400 ? '4xx' : null,
            error: null,
          });
        });
        res.on('error', (err: NodeJS.ErrnoException) =>
          finish({ status: null, body: null, failure: 'rt', error: err.code ?? err.message }),
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) =>
        finish({ status: null, body: null, failure: connected ? 'rt' : 'ct', error: err.code ?? err.message }),
      );
      req.end(body);
    });
  }
}
