import type { EventPublisherPort, PublishedRecord } from '../connector/event-publisher-port';
import { EnvelopeValidationError, type InternalEventV2 } from '../envelope';
import { ApiRequestError } from '../api-kit';

/**
 * Publishes and resolves once Kafka acknowledged (acks=all). Kafka down or
 * not acknowledging → 503 (the caller may retry; with an Idempotency-Key the
 * retry is the same request); an envelope the schema refuses → 400.
 */
export async function publishOr503(publisher: EventPublisherPort, event: InternalEventV2): Promise<PublishedRecord> {
  try {
    return await publisher.publish(event);
  } catch (err) {
    if (err instanceof EnvelopeValidationError) {
      const f = err.fields[0];
      const field = f?.path.replace(/^data\./, '');
      throw new ApiRequestError(400, 'invalid_request', `body.${field ?? ''}: ${f?.message ?? 'is invalid'}`, field);
    }
    throw new ApiRequestError(503, 'unavailable', 'Kafka did not acknowledge the request; retry later', undefined, {
      'Retry-After': '5',
    });
  }
}
