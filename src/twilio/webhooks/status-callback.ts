import { STATUS_RANK, type SmsEnvelopeBuilder } from '../../envelope';
import { IngressEgressError } from '../../errors';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import type { Metrics } from '../../observability';
import { errorCodeLabel } from '../rest/error-code-label';
import type { DedupRun, DeliveryDeduplicator } from './delivery-deduplicator';
import type { StatusTracker } from './status-tracker';
import type { StatusParams } from './webhook-params';

export interface StatusCallbackDeps {
  builder: SmsEnvelopeBuilder;
  publisher: EventPublisherPort;
  dedup: DeliveryDeduplicator<void>;
  tracker: StatusTracker;
  metrics: Metrics;
}

/**
 * A status callback → sms.status.updated on the status topic (key
 * MessageSid). Every callback is published, late ones too, each saying
 * whether it advances the message past the highest status already published.
 */
export class StatusCallback {
  constructor(private readonly deps: StatusCallbackDeps) {
    // Account suspended (30002) arrives on failed/undelivered callbacks: present at 0 so its first one is counted.
    for (const s of ['failed', 'undelivered']) deps.metrics.deliveryStatus.inc({ status: s, error_code: '30002' }, 0);
  }

  /** Publishes once per delivery, recognised by signed fields only (MessageSid, status, error code). */
  handle(status: StatusParams): DedupRun<void> {
    const key = `status|${status.messageSid}|${status.status}|${status.errorCode}`;
    return this.deps.dedup.run([key], () => this.publish(status));
  }

  private async publish(status: StatusParams): Promise<void> {
    const { builder, publisher, tracker, metrics } = this.deps;
    // Built inside the once-per-delivery work because `advances` depends on
    // what was published before this callback.
    const rank = STATUS_RANK[status.status];
    const event = builder.statusFromCallback(status.params, tracker.advances(status.messageSid, rank));
    if (!publisher.isReady()) {
      throw new IngressEgressError('IE_KAFKA_NOT_CONNECTED', 'Kafka publisher is not ready');
    }
    await publisher.publish(event);
    tracker.record(status.messageSid, rank);
    metrics.messagesReceived.labels(event.type, status.messageSid.startsWith('MM') ? 'mms' : 'sms').inc();
    metrics.deliveryStatus.inc({ status: status.status, error_code: errorCodeLabel(status.errorCode) });
  }
}
