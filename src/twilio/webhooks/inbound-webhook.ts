import type { EventOf, SmsEnvelopeBuilder } from '../../envelope';
import { IngressEgressError } from '../../errors';
import type { EventPublisherPort } from '../../kafka/publisher-port';
import type { Metrics } from '../../observability';
import { consentEventsFor, type KeywordClassifier } from './consent-from-inbound';
import type { DedupRun, DeliveryDeduplicator } from './delivery-deduplicator';
import type { InboundParams } from './webhook-params';

export interface InboundWebhookDeps {
  builder: SmsEnvelopeBuilder;
  publisher: EventPublisherPort;
  dedup: DeliveryDeduplicator<void>;
  classify: KeywordClassifier;
  metrics: Metrics;
}

/**
 * An inbound SMS/MMS → sms.inbound.received, plus sms.consent.changed for an
 * opt-out/opt-in. Resolves once Kafka acknowledged every event of the
 * message, so the route answers Twilio only after that.
 */
export class InboundWebhook {
  constructor(private readonly deps: InboundWebhookDeps) {}

  /**
   * Builds the events (throws EnvelopeValidationError for a payload the
   * envelope rejects) and publishes them once per delivery.
   */
  handle(inbound: InboundParams, idempotencyToken: string | undefined): DedupRun<void> {
    const { builder, classify } = this.deps;
    const event = builder.inboundFromWebhook(inbound.params);
    const consents = consentEventsFor(inbound, event.id, classify, builder);
    const keys = [`sms|${inbound.messageSid}`];
    if (idempotencyToken) keys.push(`token|${idempotencyToken}`);
    return this.deps.dedup.run(keys, () => this.publish(event, consents));
  }

  private async publish(
    event: EventOf<'sms.inbound.received'>,
    consents: EventOf<'sms.consent.changed'>[],
  ): Promise<void> {
    const { publisher, metrics } = this.deps;
    if (!publisher.isReady()) {
      throw new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'Kafka publisher is not ready');
    }
    await (consents.length === 0
      ? publisher.publish(event)
      : Promise.all([publisher.publish(event), ...consents.map((c) => publisher.publish(c))]));
    metrics.messagesReceived.labels(event.type, event.data.channel).inc();
    for (const c of consents) metrics.messagesReceived.labels(c.type, event.data.channel).inc();
    // One consent change per message, even when a START also clears an account-wide opt-out.
    const primary = consents[0];
    if (primary) metrics.optOutEvents.labels(primary.data.action, primary.data.via).inc();
  }
}
