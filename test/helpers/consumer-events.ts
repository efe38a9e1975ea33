import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { testKafka } from './kafka';

/** The kafkajs consumer events that show a consumer is still doing something. */
const WATCHED = ['CONNECT', 'GROUP_JOIN', 'FETCH_START', 'CRASH', 'STOP', 'DISCONNECT'] as const;
export type ConsumerEventName = (typeof WATCHED)[number];

/**
 * A kafkajs client whose consumers log their lifecycle events in order, so a
 * test can check what a part's consumers did before and after its stop().
 */
export function recordingKafka(kafka: Kafka = testKafka()): { kafka: Kafka; events: ConsumerEventName[] } {
  const events: ConsumerEventName[] = [];
  const create = kafka.consumer.bind(kafka);
  kafka.consumer = (config: ConsumerConfig): Consumer => {
    const consumer = create(config);
    for (const name of WATCHED) consumer.on(consumer.events[name], () => events.push(name));
    return consumer;
  };
  return { kafka, events };
}

/**
 * Events logged within `ms` after the call: none once a stop() really
 * stopped. Long enough for an abandoned group join to finish (the mock
 * broker delays a new group's first join by ~3 s) and show itself.
 */
export async function eventsWithin(events: readonly ConsumerEventName[], ms = 5000): Promise<ConsumerEventName[]> {
  const before = events.length;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return events.slice(before);
}
