import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { InjectOptions } from 'fastify';
import { buildServer, type IngressEgressServer } from '../../../../src/server';
import { TwilioConnector } from '../../../../src/twilio/twilio-connector';
import { createWebhookRoutes, type WebhookOptions } from '../../../../src/twilio/webhooks';
import { createMetrics, silentLogger } from '../../../../src/observability';
import { testConfig } from '../../../helpers/config';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import { clockFrom } from '../../../../src/common/clock';

/** Shared fixtures for the webhook route tests (app.inject, MemoryPublisher). */
export const ACCOUNT = 'AC' + '0'.repeat(31) + '1';
export const TOKEN = 'unit-auth-token-0123456789';
export const SUBACCOUNT = 'AC' + '5'.repeat(32);
export const SUB_TOKEN = 'sub-auth-token-0123456789';
export const BASE_URL = 'https://hooks.example.com/prefix';
export const CUSTOMER = '+14155550123';
export const SENDER = '+14155550100';
export const MG = 'MG' + '2'.repeat(32);
export const sid = (n: number, prefix: 'SM' | 'MM' = 'SM') => prefix + n.toString(16).padStart(32, '0');

export function inboundParams(n: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    MessageSid: sid(n),
    SmsMessageSid: sid(n),
    SmsSid: sid(n),
    SmsStatus: 'received',
    From: CUSTOMER,
    To: SENDER,
    Body: 'Hello there',
    NumMedia: '0',
    NumSegments: '1',
    FromCountry: 'US',
    ...extra,
  };
}

export function statusParams(n: number, status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    MessageSid: sid(n),
    SmsSid: sid(n),
    MessageStatus: status,
    SmsStatus: status,
    From: SENDER,
    To: CUSTOMER,
    ...extra,
  };
}

/** A form POST signed the way Twilio signs it (over the public URL). */
export function signed(
  path: string,
  params: Record<string, string>,
  options: { token?: string; headers?: Record<string, string> } = {},
): InjectOptions {
  const signature = getExpectedTwilioSignature(options.token ?? TOKEN, BASE_URL + path, params);
  return {
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      ...options.headers,
    },
    payload: new URLSearchParams(params).toString(),
  };
}

export interface Harness {
  server: IngressEgressServer;
  publisher: MemoryPublisher;
  metrics: ReturnType<typeof createMetrics>;
  now: { ms: number };
}

/** The real server with only the webhook routes, a MemoryPublisher and a controllable clock. */
export async function harness(
  env: Record<string, string> = {},
  options: Partial<WebhookOptions> & { publisher?: MemoryPublisher } = {},
): Promise<Harness> {
  const config = testConfig({
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_SUBACCOUNT_AUTH_TOKENS: `${SUBACCOUNT}:${SUB_TOKEN}`,
    TWILIO_WEBHOOK_BASE_URL: BASE_URL,
    HTTP_BODY_LIMIT_BYTES: '4096',
    ...env,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = options.publisher ?? new MemoryPublisher();
  const now = { ms: 1_700_000_000_000 };
  const { publisher: _p, ...rest } = options;
  const routes = createWebhookRoutes(
    { config, logger: silentLogger, metrics, publisher },
    { clock: clockFrom(() => now.ms), ...rest },
  );
  const connector = new TwilioConnector({ routes: [routes], foundations: [], ingress: [] });
  const server = buildServer(config, { publisher, logger: silentLogger, metrics, connectors: [connector] });
  await server.start();
  return { server, publisher, metrics, now };
}

export async function metricValue(
  metrics: Harness['metrics'],
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
