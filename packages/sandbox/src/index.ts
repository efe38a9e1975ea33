/** The sandbox's public surface: the one-command story and the local Kafka-protocol broker. */
export { runSandbox, type SandboxOptions } from './sandbox';
export type { SandboxHost, SandboxService, SandboxEvent } from './service-kit';
export { LocalKafkaBroker, freePort, defaultBrokerBinary, type LocalKafkaBrokerOptions } from './local-broker';
