import type { TopicNames } from '../../src/config';
import { TwilioSimulator, type TwilioSimulatorOptions } from '@ingress-egress/twilio-simulator';
import { onCleanup } from './cleanup';
import { createTestTopics, isMockBroker, testBrokers, topicEnv, uniqueName } from './kafka';

export interface EgressBed {
  sim: TwilioSimulator;
  topics: TopicNames;
  ledgerTopic: string;
  /** Service variables for the simulator, the topics and a fresh consumer group. */
  env: Record<string, string>;
}

/**
 * What the egress tests run the service against, in process
 * (test/integration/egress) or built (test/e2e): a started simulator, fresh
 * topics (one per role plus the send ledger) and the variables that point the
 * service at them, with the rate limits out of the way. The simulator stops
 * after the test.
 */
export async function startEgressBed(
  prefix: string,
  simOptions: TwilioSimulatorOptions,
  /** Default: the run's brokers; a test with a cluster of its own passes that cluster's. */
  brokers: string[] = testBrokers(),
): Promise<EgressBed> {
  const sim = new TwilioSimulator(simOptions);
  onCleanup(() => sim.stop());
  await sim.start();
  const topics = await createTestTopics(prefix, brokers);
  const ledgerTopic = topics.egressLedger;
  const env = {
    ...sim.env(),
    TWILIO_WEBHOOK_VALIDATION: 'false',
    TWILIO_RATE_LIMIT_PER_SEC: '100000',
    TWILIO_RATE_LIMIT_BURST: '100000',
    TWILIO_PER_NUMBER_RATE: '100000',
    TWILIO_PER_NUMBER_BURST: '100000',
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_GROUP_ID: uniqueName(`${prefix}-group`),
    ...topicEnv(topics),
    // The mock delays a rebalance by about the session timeout of a member that vanished.
    EGRESS_SESSION_TIMEOUT_SECS: isMockBroker() ? '6' : '10',
  };
  return { sim, topics, ledgerTopic, env };
}
