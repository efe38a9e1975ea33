import type { Kafka } from 'kafkajs';
import { ConsentLoader, ConsentStore } from '../../compliance';
import type { AppConfig } from '../../config';
import { createCodec } from '../../kafka';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Logger, Metrics } from '../../observability';
import type { ConnectorPart } from '../../connector';
import type { ConsentCheck } from './egress-deps';

/**
 * The opt-out list egress consults: a ConsentStore kept current by a
 * ConsentLoader reading the compacted consent topic. The loader is a
 * connector foundation; egress waits for it to catch up before it handles
 * the first record of an assignment.
 *
 * `publisher` is ctx.publisher for the connector's parts: every consent
 * change they publish (STOP/START webhooks, error 21610) is applied to the
 * store as soon as Kafka acknowledges it (ConsentLoader.applyOwn), so this
 * instance never sends on a consent state older than what it has published.
 */
export function createConsentCheck(ctx: {
  config: AppConfig;
  kafka: Kafka;
  logger: Logger;
  metrics?: Metrics | undefined;
  publisher: EventPublisherPort;
}): {
  check: ConsentCheck;
  store: ConsentStore;
  part: ConnectorPart;
  ready: () => Promise<void>;
  publisher: EventPublisherPort;
} {
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
    isDoNotCall: (q) => store.isDoNotCall(q.accountSid, q.phoneNumber),
  };
  // Loading runs in the background so the service starts at once; egress waits for it (`ready`)
  // before it handles any record, and /readyz reports the loader until it caught up.
  let loading: Promise<void> | undefined;
  const ready = () => {
    loading ??= loader.start();
    return loading;
  };
  const part: ConnectorPart = {
    name: 'consent-loader',
    start: async () => {
      ready().catch((err: unknown) => ctx.logger.error({ err }, 'the consent loader failed to load'));
    },
    stop: () => loader.stop(),
    health: () => ({ ready: loader.ready, state: loader.state }),
  };
  const topic = ctx.config.kafka.topics.consent;
  const inner = ctx.publisher;
  const publisher: EventPublisherPort = {
    // Only consent changes take the extra step; everything else (the webhook hot path) goes straight through.
    publish: (event) =>
      event.type !== 'sms.consent.changed'
        ? inner.publish(event)
        : inner.publish(event).then((record) => {
            if (record.topic === topic) loader.applyOwn(event, record);
            return record;
          }),
    publishRaw: (record) => inner.publishRaw(record),
    isReady: () => inner.isReady(),
  };
  return { check, store, part, ready, publisher };
}
