import http from 'node:http';
import twilio from 'twilio';
import type BaseRequestClient from 'twilio/lib/base/RequestClient';
import type TwilioResponse from 'twilio/lib/http/response';
import { IngressEgressError } from '../../errors';

/**
 * Builds the official twilio REST client the service uses. Its own retries are
 * off (our retry policy decides), its timeout is ours, and with a base URL other
 * than https://api.twilio.com every request, whatever Twilio domain it is for,
 * is sent there instead: protocol and host are rewritten (and a path prefix
 * kept), which is how tests, the sandbox and benchmarks reach the simulator.
 * Region/edge settings from the environment are ignored on purpose: the
 * service passes what it wants explicitly and never reads process.env here.
 */
export const TWILIO_DEFAULT_API_BASE_URL = 'https://api.twilio.com';

export type TwilioRestCredentials =
  | { authToken: string; apiKeySid?: undefined; apiKeySecret?: undefined }
  | { apiKeySid: string; apiKeySecret: string; authToken?: undefined };

export type TwilioRestClientOptions = TwilioRestCredentials & {
  accountSid: string;
  /** Default https://api.twilio.com (no rewriting). */
  apiBaseUrl?: string;
  /** Per-request timeout (ms); a timeout surfaces as an axios ECONNABORTED error. */
  timeoutMs: number;
  region?: string;
  edge?: string;
};

/** A RequestClient that sends every request to one base URL. */
class RewritingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: URL,
    timeoutMs: number,
  ) {
    super({ autoRetry: false, timeout: timeoutMs, keepAlive: true });
    if (base.protocol === 'http:') {
      // RequestClient only configures an https agent; keep plain-http connections alive too.
      this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    }
  }

  override request<TData>(opts: BaseRequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    return super.request<TData>({ ...opts, uri: rewriteUri(opts.uri, this.base) });
  }
}

/** `https://api.twilio.com/2010-04-01/…?x` → `<base>/2010-04-01/…?x`, keeping a path prefix of the base. */
export function rewriteUri(uri: string, base: URL): string {
  const u = new URL(uri);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.protocol}//${base.host}${prefix}${u.pathname}${u.search}`;
}

export function createTwilioRestClient(options: TwilioRestClientOptions): twilio.Twilio {
  const baseUrl = (options.apiBaseUrl ?? TWILIO_DEFAULT_API_BASE_URL).replace(/\/+$/, '');
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new IngressEgressError('IE_CONFIG_INVALID', 'The Twilio API base URL is not a valid URL');
  }
  const rewrite = baseUrl !== TWILIO_DEFAULT_API_BASE_URL;
  const httpClient: twilio.RequestClient = rewrite
    ? new RewritingRequestClient(base, options.timeoutMs)
    : new twilio.RequestClient({ autoRetry: false, timeout: options.timeoutMs, keepAlive: true });
  const common: twilio.ClientOpts = {
    accountSid: options.accountSid,
    httpClient,
    autoRetry: false,
    timeout: options.timeoutMs,
    env: {},
    ...(options.region ? { region: options.region } : {}),
    ...(options.edge ? { edge: options.edge } : {}),
  };
  if (options.apiKeySid !== undefined) {
    return twilio(options.apiKeySid, options.apiKeySecret, common);
  }
  return twilio(options.accountSid, options.authToken, common);
}
