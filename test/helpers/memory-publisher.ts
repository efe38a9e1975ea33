import type { InternalEventV2 } from '../../src/envelope';
import { parseEnvelope } from '../../src/envelope';
import { IngressEgressError } from '../../src/errors';
import type { PublishedRecord, RawRecord } from '../../src/connector/event-publisher-port';
import type { ManagedPublisher } from '../../src/server';

/** An in-memory publisher for unit tests: validates like the real one and can be made to fail. */
export class MemoryPublisher implements ManagedPublisher {
  readonly events: InternalEventV2[] = [];
  readonly raw: RawRecord[] = [];
  down = false;
  /** Connected but publishes time out (EventPublisher.stalled): readiness false. */
  stalled = false;
  /** When set, publish() rejects with this error (e.g. a non-retriable Kafka rejection). */
  failWith: Error | undefined;
  started = false;
  stopped = false;
  onStop: (() => void) | undefined;

  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.onStop?.();
  }
  isReady(): boolean {
    return this.started && !this.stopped && !this.down;
  }
  async publish(event: InternalEventV2): Promise<PublishedRecord> {
    const valid = parseEnvelope(event);
    if (this.failWith) throw this.failWith;
    if (this.down) throw new IngressEgressError('IE_KAFKA_UNAVAILABLE', 'memory publisher is down');
    this.events.push(valid);
    return { topic: valid.type, partition: 0, offset: String(this.events.length - 1) };
  }
  async publishRaw(record: RawRecord): Promise<PublishedRecord> {
    if (this.down) throw new IngressEgressError('IE_KAFKA_UNAVAILABLE', 'memory publisher is down');
    this.raw.push(record);
    return { topic: record.topic, partition: 0, offset: String(this.raw.length - 1) };
  }
}
