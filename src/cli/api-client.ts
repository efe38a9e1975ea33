import { CliError, type CliIo } from './io';

/** The environment variable the CLI reads the API token from when `--token` is not given. */
export const API_TOKEN_ENV = 'INGRESS_EGRESS_API_TOKEN';

export const API_OPTIONS_HELP = `  --api URL                 go through the service's HTTP API (e.g. http://127.0.0.1:4000) instead of Kafka/Twilio
  --token TOKEN             the API token (default $${API_TOKEN_ENV}; prefer the variable: flags show in ps)`;

/** `--api URL` and its token: the CLI's commands as calls to a running service's /api. */
export class ApiClient {
  private constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  static from(io: CliIo, url: string, token: string | undefined): ApiClient {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`--api must be a URL such as http://127.0.0.1:4000, got '${url}'`, 2);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError('--api must be http(s)', 2);
    const t = token ?? io.env[API_TOKEN_ENV];
    if (!t) throw new CliError(`--api needs a token: --token or ${API_TOKEN_ENV}`, 2);
    return new ApiClient(parsed.toString().replace(/\/+$/, ''), t);
  }

  /** Calls `method path`; the parsed JSON of a 2xx answer, else a CliError with the API's own message. */
  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; query?: Record<string, string | undefined> } = {},
  ): Promise<{ status: number; body: T }> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (err) {
      throw new CliError(`cannot reach the API at ${this.base}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: body as T };
    const e = body as { error?: string; message?: string } | undefined;
    const why = e?.message ? `${e.error ?? 'error'}: ${e.message}` : `HTTP ${res.status}`;
    throw new CliError(`the API answered ${res.status} (${why})`, res.status === 400 || res.status === 422 ? 2 : 1);
  }
}
