import type { InternalEventV2 } from '../envelope';

/** Where a record landed. */
export interface PublishedRecord {
  topic: string;
  partition: number;
  offset: string;
}

/** A record that is not an envelope (DLQ entries, ledger entries). */
export interface RawRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}

/**
 * The narrow port every part publishes through (webhooks, Conversations,
 * egress outcomes, DLQ). `publish` resolves only after Kafka acknowledged the
 * record (acks=all); it rejects with a retriable IngressEgressError
 * (IE_KAFKA_UNAVAILABLE / IE_KAFKA_NOT_CONNECTED) when Kafka is down, and with
 * EnvelopeValidationError (never retriable) when the envelope is invalid.
 */
export interface EventPublisherPort {
  publish(event: InternalEventV2): Promise<PublishedRecord>;
  publishRaw(record: RawRecord): Promise<PublishedRecord>;
  /** True while connected and able to publish (feeds /readyz). */
  isReady(): boolean;
}
