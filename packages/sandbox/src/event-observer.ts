import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { SandboxEvent, SandboxService } from './service-kit';

type Seen = { topic: string; event: SandboxEvent };

/**
 * Reads every envelope on the given topics (from the beginning) so the sandbox
 * can show what reached Kafka and wait for the event a step expects.
 */
export class EventObserver {
  private consumer: Consumer | undefined;
  private readonly seen: Seen[] = [];
  private readonly waiters = new Set<{ match: (s: Seen) => boolean; resolve: (s: Seen) => void }>();

  constructor(
    private readonly service: Pick<SandboxService, 'createConsumer' | 'decode'>,
    private readonly topics: readonly string[],
    private readonly onEvent: (topic: string, e: SandboxEvent) => void,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.service.createConsumer({
      groupId: `sandbox-observer-${randomUUID()}`,
      sessionTimeout: 6000,
      heartbeatInterval: 500,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    let joined: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => joined());
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        const event = this.service.decode(message.value);
        if (!event) return; // ledger or DLQ records are not envelopes
        const s = { topic, event };
        this.seen.push(s);
        this.onEvent(topic, event);
        for (const w of [...this.waiters]) {
          if (w.match(s)) {
            this.waiters.delete(w);
            w.resolve(s);
          }
        }
      },
    });
    await ready;
  }

  /** The first event (already seen or still to come) that matches. */
  waitFor(match: (e: SandboxEvent, topic: string) => boolean, timeoutMs: number, what: string): Promise<SandboxEvent> {
    const m = (s: Seen) => match(s.event, s.topic);
    const hit = this.seen.find(m);
    if (hit) return Promise.resolve(hit.event);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: m,
        resolve: (s: Seen) => {
          clearTimeout(timer);
          resolve(s.event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
