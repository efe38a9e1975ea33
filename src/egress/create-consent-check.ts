import type { Kafka } from 'kafkajs';
import { ConsentLoader, ConsentStore } from '../compliance';
import type { AppConfig } from '../config';
import { createCodec } from '../envelope';
import type { Logger, Metrics } from '../observability';
import type { TwilioPart } from '../twilio/twilio-connector';
import type { ConsentCheck } from './egress-deps';

/**
 * The opt-out list egress consults: a ConsentStore kept current by a
 * ConsentLoader reading the compacted consent topic. The loader is a
 * connector foundation, so it has caught up before the egress consumer
 * starts handing out records.
 */
export function createConsentCheck(ctx: {
  config: AppConfig;
  kafka: Kafka;
  logger: Logger;
  metrics?: Metrics | undefined;
}): { check: ConsentCheck; store: ConsentStore; part: TwilioPart } {
  const store = new ConsentStore(ctx.metrics ? { gauge: ctx.metrics.optOutCacheSize } : {});
  const codec = createCodec(ctx.config);
  const loader = new ConsentLoader({
    kafka: ctx.kafka,
    topic: ctx.config.kafka.topics.consent,
    store,
    decode: (value) => codec.decode(value),
    logger: ctx.logger,
    groupIdPrefix: `${ctx.config.kafka.groupId}-consent`,
  });
  const check: ConsentCheck = {
    isOptedOut: (q) =>
      store.isOptedOut(q.accountSid, q.phoneNumber, { from: q.from, messagingServiceSid: q.messagingServiceSid }),
  };
  const part: TwilioPart = {
    name: 'consent-loader',
    start: () => loader.start(),
    stop: () => loader.stop(),
    health: () => ({ ready: loader.ready, state: loader.state }),
  };
  return { check, store, part };
}
