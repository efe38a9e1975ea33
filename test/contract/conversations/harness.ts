import vm from 'node:vm';
import twilio from 'twilio';
import { createLogger, createMetrics, type Logger, type Metrics } from '../../../src/observability';
import { ConversationsSimulator } from '@ingress-egress/twilio-simulator';
import type { EventPublisherPort } from '../../../src/connector/event-publisher-port';
import { createAccessTokenProvider } from '../../../src/twilio/conversations/access-token-provider';
import { SdkConversationsAdapter } from '../../../src/twilio/conversations/sdk-conversations-adapter';
import { SdkRejectionGuard, type RejectionGuard } from '../../../src/twilio/conversations/sdk-rejection-guard';
import {
  TwilioSmsIngressClient,
  type TwilioSmsIngressClientOptions,
} from '../../../src/twilio/conversations/twilio-sms-ingress-client';

/**
 * The real, exactly pinned @twilio/conversations SDK against the simulator's
 * socket. Reconnect back-off is shortened (the SDK's own option) so a dropped
 * socket recovers in tens of milliseconds rather than a second or more.
 */
export const ACCOUNT_SID = 'AC' + '5'.repeat(32);
export const API_KEY_SID = 'SK' + '6'.repeat(32);
export const API_KEY_SECRET = 'contract-api-key-secret';
export const SERVICE_SID = 'IS' + '7'.repeat(32);
export const IDENTITY = 'ingress-egress';
export const CUSTOMER = '+15017122661';

export async function startSimulator(extra: Partial<ConstructorParameters<typeof ConversationsSimulator>[0]> = {}) {
  const sim = new ConversationsSimulator({
    accountSid: ACCOUNT_SID,
    serviceSid: SERVICE_SID,
    apiKeys: { [API_KEY_SID]: API_KEY_SECRET },
    tokenTimers: false,
    ...extra,
  });
  await sim.start();
  return sim;
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  });
  return { logger, lines };
}

/**
 * The SDK rejects promises nobody awaits (a failed Sync fetch, requests
 * pending when it shuts down). In production SdkRejectionGuard catches them on
 * the process; jest would instead fail whichever test is running. So for a
 * file these tests put the production guard on the real process (jest's own
 * listener is set aside and restored): SDK rejections are then handled exactly
 * as in production, and anything else still fails the test (the guard
 * re-throws it as an uncaught exception, which jest reports).
 */
export function useProcessRejectionGuard(): { guard: () => SdkRejectionGuard; lines: LogLine[] } {
  const real = vm.runInThisContext('process') as NodeJS.Process;
  const { logger, lines } = memoryLogger();
  let guard: SdkRejectionGuard | undefined;
  let saved: ((...args: unknown[]) => void)[] = [];
  beforeAll(() => {
    saved = real.rawListeners('unhandledRejection') as ((...args: unknown[]) => void)[];
    real.removeAllListeners('unhandledRejection');
    guard = new SdkRejectionGuard(logger, real);
    guard.install();
  });
  afterAll(async () => {
    // Let the SDK's last shutdown rejections arrive while the guard still listens.
    await new Promise((r) => setTimeout(r, 1000));
    guard?.uninstall();
    for (const l of saved) real.on('unhandledRejection', l);
  });
  return {
    guard: () => {
      if (!guard) throw new Error('guard used outside a test');
      return guard;
    },
    lines,
  };
}

/** Clients in these tests rely on the file's process guard. */
const fileGuard: RejectionGuard = { install: () => undefined, uninstall: () => undefined };

export function ingressClient(
  sim: ConversationsSimulator,
  publisher: EventPublisherPort,
  extra: Partial<TwilioSmsIngressClientOptions> & { logger?: Logger; metrics?: Metrics } = {},
): TwilioSmsIngressClient {
  const logger = extra.logger ?? createLogger({ level: 'silent' });
  return new TwilioSmsIngressClient({
    adapter: new SdkConversationsAdapter({
      socketUrl: sim.socketUrl,
      retryPolicy: { min: 50, max: 400, randomness: 0.1 },
    }),
    tokens: createAccessTokenProvider({
      accountSid: ACCOUNT_SID,
      apiKeySid: API_KEY_SID,
      apiKeySecret: API_KEY_SECRET,
      serviceSid: SERVICE_SID,
      identity: IDENTITY,
      ttlSecs: 3600,
    }),
    publisher,
    accountSid: ACCOUNT_SID,
    serviceSid: SERVICE_SID,
    identity: IDENTITY,
    logger,
    metrics: extra.metrics ?? createMetrics({ defaultMetrics: false }),
    rejectionGuard: fileGuard,
    startTimeoutMs: 10_000,
    restartBackoff: { initialMs: 200, maxMs: 1000 },
    ...extra,
  });
}

/** Polls `check` (real time: the SDK runs on real timers) until it holds. */
export async function eventually<T>(
  check: () => T | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function accessToken(identity: string): string {
  const t = new twilio.jwt.AccessToken(ACCOUNT_SID, API_KEY_SID, API_KEY_SECRET, { identity, ttl: 600 });
  t.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: SERVICE_SID }));
  return t.toJwt();
}
