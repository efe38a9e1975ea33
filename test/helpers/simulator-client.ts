import type twilio from 'twilio';
import { createTwilioRestClient } from '../../src/twilio/rest/rest-client';
import type { TwilioSimulator } from '@ingress-egress/twilio-simulator';

/**
 * The official twilio client pointed at a started simulator, built exactly as
 * the service builds its own (autoRetry off, rewritten base URL).
 */
export function createSimulatorTwilioClient(
  sim: TwilioSimulator,
  options: { accountSid?: string; timeoutMs?: number; apiKey?: { sid: string; secret: string } } = {},
): twilio.Twilio {
  const { accountSid, authToken } = sim.credentials(options.accountSid);
  const common = { accountSid, apiBaseUrl: sim.baseUrl, timeoutMs: options.timeoutMs ?? 30_000 };
  return options.apiKey
    ? createTwilioRestClient({ ...common, apiKeySid: options.apiKey.sid, apiKeySecret: options.apiKey.secret })
    : createTwilioRestClient({ ...common, authToken });
}
