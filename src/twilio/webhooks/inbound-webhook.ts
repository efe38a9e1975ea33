import type { EventOf, SmsEnvelopeBuilder } from '../../envelope';
import { IngressEgressError } from '../../errors';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Metrics } from '../../observability';
import type { KeywordDetector } from '../../sms/keywords';
import { consentEventFor } from './consent-from-inbound';
import type { DedupRun, DeliveryDeduplicator } from './delivery-deduplicator';
import type { InboundParams } from './webhook-params';

export interface InboundWebhookDeps {
  builder: SmsEnvelopeBuilder;
  publisher: EventPublisherPort;
  dedup: DeliveryDeduplicator<void>;
  keywords: Pick<KeywordDetector, 'detect'>;
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
   * envelope rejects) and publishes them once per delivery. A delivery is
   * recognised by its MessageSid, which Twilio's signature covers; never by
   * I-Twilio-Idempotency-Token, which it does not (a reused token must not
   * drop another message, a STOP least of all).
   */
  handle(inbound: InboundParams): DedupRun<void> {
    const { builder, keywords } = this.deps;
    const event = builder.inboundFromWebhook(inbound.params);
    const consent = consentEventFor(inbound, event.id, keywords, builder);
    return this.deps.dedup.run([`sms|${inbound.messageSid}`], () => this.publish(event, consent));
  }

  private async publish(
    event: EventOf<'sms.inbound.received'>,
    consent: EventOf<'sms.consent.changed'> | undefined,
  ): Promise<void> {
    const { publisher, metrics } = this.deps;
    if (!publisher.isReady()) {
      throw new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'Kafka publisher is not ready');
    }
    // Both are sent together so they share a produce request; the answer waits for both acks.
    await (consent === undefined
      ? publisher.publish(event)
      : Promise.all([publisher.publish(event), publisher.publish(consent)]));
    metrics.messagesReceived.labels(event.type, event.data.channel).inc();
    if (consent) {
      metrics.messagesReceived.labels(consent.type, event.data.channel).inc();
      metrics.optOutEvents.labels(consent.data.action, consent.data.via).inc();
    }
  }
}
