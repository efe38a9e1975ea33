import http from 'node:http';
import https from 'node:https';
import twilio from 'twilio';
import { failSpan, inSpan, SpanKind, type Span } from '../../observability';
import { rewriteUri, TWILIO_DEFAULT_API_BASE_URL } from '../rest/rest-client';

/** What the twilio SDK hands its HTTP client (BaseTwilio.request). */
export interface SdkRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  authStrategy?: { getAuthString(): Promise<string> };
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
  timeout?: number;
}

export interface SdkResponse {
  statusCode: number;
  /** JSON text; the SDK parses it (RestException too). */
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface LeanRequestClientOptions {
  /** TWILIO_API_BASE_URL: every Twilio domain is sent there when it is not https://api.twilio.com. */
  apiBaseUrl: string;
  /** One request, from sending it to the end of the answer (TWILIO_TIMEOUT_SECS). */
  timeoutMs: number;
  /**
   * Establishing a new connection, TCP and TLS (TWILIO_CONNECT_TIMEOUT_SECS; default and cap: timeoutMs).
   * Nothing was sent when it runs out: the error (`ERR_CONNECT_TIMEOUT`) is not ambiguous.
   */
  connectTimeoutMs?: number;
  /** Keep-alive sockets per host: at least the sends in flight (TWILIO_HTTP_MAX_SOCKETS). */
  maxSockets: number;
  /** An idle keep-alive socket is closed after this long (TWILIO_HTTP_IDLE_TIMEOUT_SECS; default 30 s). */
  idleTimeoutMs?: number;
}

/** The error code of a connection not established within the connect timeout (src/twilio/rest/error-map.ts). */
export const CONNECT_TIMEOUT_CODE = 'ERR_CONNECT_TIMEOUT';

/**
 * The HTTP transport the official twilio SDK runs on for egress. The SDK
 * still builds every request and parses every answer (RestException,
 * MessageInstance); this only replaces its default axios-based
 * RequestClient, which costs about 0.5 ms of CPU per call, with plain
 * keep-alive `http`/`https`. Same contract as RequestClient with autoRetry
 * off: form bodies with repeated keys, Basic auth, one timeout per request
 * (an `ECONNABORTED` error, as axios reports it: the request may have been
 * executed), and the base-URL rewrite of createTwilioRestClient.
 */
export class LeanRequestClient {
  private readonly base: URL | undefined;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(o: LeanRequestClientOptions) {
    const base = o.apiBaseUrl.replace(/\/+$/, '');
    this.base = base === TWILIO_DEFAULT_API_BASE_URL ? undefined : new URL(base);
    const secure = (this.base?.protocol ?? 'https:') === 'https:';
    // `timeout` on a keep-alive agent: a socket idle in the free pool that long is destroyed (Node's Agent).
    const agentOptions = {
      keepAlive: true,
      maxSockets: o.maxSockets,
      maxFreeSockets: o.maxSockets,
      timeout: o.idleTimeoutMs ?? 30_000,
    };
    // Said explicitly rather than left to Node's defaults: TLS 1.2 or newer, and the certificate is always
    // checked (plain http is allowed only for a loopback base URL, by configuration).
    this.agent = secure
      ? new https.Agent({ ...agentOptions, minVersion: 'TLSv1.2', rejectUnauthorized: true })
      : new http.Agent(agentOptions);
    this.timeoutMs = o.timeoutMs;
    this.connectTimeoutMs = Math.min(o.connectTimeoutMs ?? o.timeoutMs, o.timeoutMs);
  }

  /** The agent (pool size and idle timeout are read from it in tests). */
  get httpAgent(): http.Agent {
    return this.agent;
  }

  /**
   * One HTTP call in a client span: method, host, status code and, when Twilio refused it, Twilio's error
   * code (`twilio.error_code`). No URL query or body goes on the span (they carry numbers).
   */
  request(opts: SdkRequest): Promise<SdkResponse> {
    const method = opts.method.toUpperCase();
    return inSpan(method, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method } }, async (span) => {
      const res = await this.send(opts, span);
      if (span.isRecording()) describeAnswer(span, res);
      return res;
    });
  }

  private async send(opts: SdkRequest, span: Span): Promise<SdkResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}), Connection: 'keep-alive' };
    if (opts.username && opts.password) {
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    } else if (opts.authStrategy) {
      headers.Authorization = await opts.authStrategy.getAuthString();
    }
    const url = new URL(this.base ? rewriteUri(opts.uri, this.base) : opts.uri);
    if (span.isRecording()) {
      span.setAttribute('server.address', url.hostname);
      if (url.port !== '') span.setAttribute('server.port', Number(url.port));
      span.setAttribute('twilio.resource', twilioResource(url.pathname));
    }
    if (opts.params) for (const [k, v] of entries(opts.params)) url.searchParams.append(k, v);
    let body: string | undefined;
    if (opts.data && headers['Content-Type'] === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams();
      for (const [k, v] of entries(opts.data)) form.append(k, v);
      body = form.toString();
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const timeoutMs = opts.timeout ?? this.timeoutMs;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<SdkResponse>((resolve, reject) => {
      const req = transport.request(url, { method: opts.method.toUpperCase(), headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        clearTimeout(connectTimer);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            statusCode: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: 'ECONNABORTED' }));
      }, timeoutMs);
      let connectTimer: NodeJS.Timeout | undefined;
      if (this.connectTimeoutMs < timeoutMs) {
        req.once('socket', (socket) => {
          // A reused keep-alive socket is connected already; a new one has until the connect timeout.
          if (req.reusedSocket) return;
          connectTimer = setTimeout(() => {
            req.destroy(
              Object.assign(new Error(`connection not established within ${this.connectTimeoutMs}ms`), {
                code: CONNECT_TIMEOUT_CODE,
              }),
            );
          }, this.connectTimeoutMs);
          socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
        });
      }
      req.on('error', (err) => {
        clearTimeout(timer);
        clearTimeout(connectTimer);
        reject(err);
      });
      req.end(body);
    });
  }
}

function describeAnswer(span: Span, res: SdkResponse): void {
  span.setAttribute('http.response.status_code', res.statusCode);
  if (res.statusCode < 400) return;
  let code: unknown;
  try {
    code = (JSON.parse(res.body) as { code?: unknown }).code;
  } catch {
    code = undefined;
  }
  if (typeof code === 'number') span.setAttribute('twilio.error_code', code);
  failSpan(span, { code: typeof code === 'number' ? code : res.statusCode });
}

/** `/2010-04-01/Accounts/AC…/Messages/SM….json` → `Messages`: the resource, without ids. */
function twilioResource(pathname: string): string {
  const parts = pathname.replace(/\.json$/, '').split('/');
  const resources = parts.filter((p) => /^[A-Z][A-Za-z]+$/.test(p) && p !== 'Accounts');
  return resources.join('/') || 'unknown';
}

/** `{To: 'x', MediaUrl: ['a', 'b']}` → [['To','x'], ['MediaUrl','a'], ['MediaUrl','b']]: Twilio's repeated keys. */
function entries(obj: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) out.push([k, String(x)]);
    else out.push([k, v instanceof Date ? v.toISOString() : String(v)]);
  }
  return out;
}

/** The official twilio client on the lean transport, for egress sends. */
export function createEgressTwilioClient(o: LeanRequestClientOptions & { accountSid: string; authToken: string }) {
  const httpClient = new LeanRequestClient(o) as unknown as twilio.RequestClient;
  return twilio(o.accountSid, o.authToken, {
    accountSid: o.accountSid,
    httpClient,
    autoRetry: false,
    timeout: o.timeoutMs,
    env: {},
  });
}
