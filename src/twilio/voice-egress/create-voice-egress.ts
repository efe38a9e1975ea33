import type twilio from 'twilio';
import type { AppConfig } from '../../config';
import { VoiceEnvelopeBuilder } from '../../envelope';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { DlqWriter } from '../../egress/dlq-writer';
import type { Logger, Metrics } from '../../observability';
import { RateLimiter, type Clock, type RetryPolicy } from '../../resilience';
import { PhoneNormalizer, type CountryCode } from '../../sms/phone';
import type { AccountCircuits } from '../egress/account-circuits';
import { IN_FLIGHT_GRACE_MS, OpenAttempts } from '../egress/attempt-over';
import type { SendFailure } from '../egress/delivery';
import type { SendLedger } from '../egress/send-ledger';
import { CallValidator, type RouteTwiml } from './call-validator';
import { TwilioCallsAdapter } from './twilio-calls-adapter';
import type { TwilioCallsPort } from './twilio-calls-port';
import type { DoNotCallCheck } from './voice-egress-deps';
import { VoiceEgressHandler } from './voice-egress-handler';

export interface VoiceEgressContext {
  config: AppConfig;
  logger: Logger;
  metrics?: Metrics | undefined;
  publisher: EventPublisherPort;
  /** The SMS egress's own: one ledger, one breaker per account, one retry policy, one DLQ. */
  ledger: SendLedger;
  circuits: AccountCircuits;
  retry: RetryPolicy;
  classify: (err: unknown) => SendFailure;
  dlq: DlqWriter;
  clock: Clock;
  instanceId: string;
  doNotCall: DoNotCallCheck;
  /** The egress Twilio client (SMS egress's); `calls` replaces it in tests. */
  client: twilio.Twilio;
  calls?: TwilioCallsPort | undefined;
  routeTwiml?: RouteTwiml | undefined;
}

/**
 * The voice egress handler from the configuration: its own calls-per-second
 * limiter (TWILIO_VOICE_CPS, shared by every instance like the account's
 * message rate), everything else shared with SMS egress.
 */
export function createVoiceEgress(ctx: VoiceEgressContext): { handler: VoiceEgressHandler; calls: TwilioCallsPort } {
  const { config, metrics, clock } = ctx;
  const calls = ctx.calls ?? new TwilioCallsAdapter(ctx.client);
  const cps = config.twilio.voiceCallsPerSec;
  const bucket = { ratePerSec: cps, burst: Math.max(1, Math.round(cps)) };
  const handler = new VoiceEgressHandler({
    clock,
    logger: ctx.logger.child({ part: 'voice-egress' }),
    metrics,
    builder: new VoiceEnvelopeBuilder(clock),
    publisher: ctx.publisher,
    calls,
    ledger: ctx.ledger,
    // Twilio counts calls per second per account; the sender and callee buckets are as wide as the account's.
    limiter: new RateLimiter({
      account: bucket,
      sender: bucket,
      recipient: bucket,
      clock,
      onHit: () => metrics?.rateLimitHits.inc({ bucket: 'voice_cps' }),
    }),
    circuits: ctx.circuits,
    retry: ctx.retry,
    classify: ctx.classify,
    validator: new CallValidator({
      phones: new PhoneNormalizer({
        defaultCountry: config.sms.defaultCountry as CountryCode,
        validation: config.sms.phoneValidation,
        blockedCountries: config.sms.blockedCountries,
        allowedCountries: config.sms.allowedCountries,
        blockPremiumRate: config.sms.blockPremiumRate,
        blockEmergency: config.sms.blockEmergency,
      }),
      defaultFrom: config.twilio.phoneNumber,
      routeTwiml: ctx.routeTwiml,
      webhookBaseUrl: config.twilio.webhookBaseUrl,
    }),
    doNotCall: ctx.doNotCall,
    dlq: ctx.dlq,
    instanceId: ctx.instanceId,
    twilioTimeoutMs: config.twilio.timeoutMs,
    openAttempts: new OpenAttempts(config.twilio.timeoutMs + IN_FLIGHT_GRACE_MS),
  });
  return { handler, calls };
}
