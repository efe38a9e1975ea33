import { systemClock, type Clock } from '../common/clock';
import type { InternalEventV2 } from '../envelope';
import { keyFor } from '../kafka/topics';
import type { EventPublisherPort, PublishedRecord } from '../connector/event-publisher-port';
import { redactPhonesInText, type Metrics } from '../observability';
import { EgressError } from './egress-errors';
import { DLQ_HEADERS, type DlqCause, type DlqSource } from './dlq-record';

/**
 * Writes failed egress records to the DLQ topic with their cause. Resolves
 * after Kafka acknowledged; a failure is retriable (the record is not
 * committed until its DLQ copy is durable).
 */
export class DlqWriter {
  constructor(
    private readonly publisher: EventPublisherPort,
    private readonly topic: string,
    private readonly metrics?: Metrics,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  /** A request that decoded but failed: the envelope as JSON. */
  writeEvent(event: InternalEventV2, cause: DlqCause, source: DlqSource | undefined): Promise<PublishedRecord> {
    const headers = this.headers(cause, source, 'envelope');
    headers[DLQ_HEADERS.requestId] = event.id;
    headers['content-type'] = 'application/json';
    return this.write({ key: keyFor(event), value: Buffer.from(JSON.stringify(event), 'utf8'), headers }, cause);
  }

  /** A record that did not decode (poison): its bytes and headers as they were. */
  writeRaw(
    record: { key: Buffer | string | null; value: Buffer | null; headers: Record<string, string> },
    cause: DlqCause,
    source: DlqSource,
  ): Promise<PublishedRecord> {
    const headers = { ...record.headers, ...this.headers(cause, source, 'raw') };
    const key = record.key === null ? null : Buffer.isBuffer(record.key) ? record.key.toString('utf8') : record.key;
    return this.write({ key, value: record.value, headers }, cause);
  }

  private headers(cause: DlqCause, source: DlqSource | undefined, format: 'envelope' | 'raw'): Record<string, string> {
    const h: Record<string, string> = {
      [DLQ_HEADERS.code]: cause.code,
      [DLQ_HEADERS.reason]: redactPhonesInText(cause.reason).slice(0, 1000),
      [DLQ_HEADERS.stage]: cause.stage,
      [DLQ_HEADERS.failedAt]: new Date(this.clock.now()).toISOString(),
      [DLQ_HEADERS.format]: format,
    };
    if (source) {
      h[DLQ_HEADERS.sourceTopic] = source.topic;
      h[DLQ_HEADERS.sourcePartition] = String(source.partition);
      h[DLQ_HEADERS.sourceOffset] = source.offset;
    }
    if (cause.attempts !== undefined) h[DLQ_HEADERS.attempts] = String(cause.attempts);
    if (cause.twilioErrorCode !== undefined) h[DLQ_HEADERS.twilioErrorCode] = String(cause.twilioErrorCode);
    if (cause.recipient !== undefined) h[DLQ_HEADERS.recipient] = cause.recipient;
    return h;
  }

  private async write(
    record: { key: string | null; value: Buffer | null; headers: Record<string, string> },
    cause: DlqCause,
  ): Promise<PublishedRecord> {
    try {
      const r = await this.publisher.publishRaw({ topic: this.topic, ...record });
      this.metrics?.dlqRecords.inc({ code: cause.code });
      return r;
    } catch (err) {
      throw new EgressError('IE_EGRESS_DLQ_UNAVAILABLE', 'the DLQ record could not be written', { cause: err });
    }
  }
}
