import http from 'node:http';
import { ManualClock, TwilioSimulator, type TwilioSimulatorOptions } from '../../src';

export const ACCOUNT = 'AC' + 'a'.repeat(32);
export const TOKEN = 'unit-auth-token';
export const FROM = '+15005550006';
export const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;

export function basic(user = ACCOUNT, secret = TOKEN): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

const running: TwilioSimulator[] = [];

/** A started simulator on a ManualClock with seed 1; stopped after the test. */
export async function startSim(
  options: Partial<TwilioSimulatorOptions> = {},
): Promise<{ sim: TwilioSimulator; clock: ManualClock }> {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock();
  const sim = new TwilioSimulator({
    accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
    seed: 1,
    ...options,
    clock,
  });
  running.push(sim);
  await sim.start();
  return { sim, clock };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** One HTTP request on a fresh connection; rejects with the socket error (e.g. ECONNRESET). */
export function request(
  base: string,
  method: string,
  path: string,
  form?: Record<string, string | string[]>,
  options: { auth?: string | null; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const body = form ? toForm(form) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, {
      method,
      agent: false,
      headers: {
        ...(options.auth === null ? {} : { authorization: options.auth ?? basic() }),
        ...(body === undefined
          ? {}
          : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }),
      },
    });
    if (options.timeoutMs) {
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function toForm(form: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

export function create(base: string, form: Record<string, string | string[]>): Promise<RawResponse> {
  return request(base, 'POST', MESSAGES, form);
}
