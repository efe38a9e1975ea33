import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';

/**
 * What the sandbox needs of the service, provided by the host that runs it
 * (the service's own `ingress-egress sandbox` command). The sandbox package
 * imports nothing of the service: the service depends on this package, never
 * the other way round.
 */
export interface SandboxHost {
  /** Starts the service on this environment (topics created, HTTP listening). */
  start(env: Record<string, string>): Promise<SandboxService>;
}

/** An event the service published, as the story sees it. */
export interface SandboxEvent {
  readonly id: string;
  readonly type: string;
  readonly causationId?: string | undefined;
  readonly data: Readonly<Record<string, unknown>>;
  /** One line for the story (phone numbers redacted by the service). */
  readonly summary: string;
}

export interface SandboxService {
  /** A Kafka client on the sandbox's broker. */
  readonly kafka: Kafka;
  /** The topics whose events the story shows. */
  readonly observedTopics: readonly string[];
  /** Every topic the service uses (printed by --follow). */
  readonly allTopics: readonly string[];
  /** The identity the Conversations ingress joins conversations as. */
  readonly conversationsIdentity: string;
  /** One record value as an event; undefined for records that are not envelopes (ledger, DLQ). */
  decode(value: Buffer): SandboxEvent | undefined;
  /** A consumer whose disconnect() really stops it. */
  createConsumer(config: ConsumerConfig): Consumer;
  /** Publishes an egress request (`sms.outbound.requested`) and resolves with its id. */
  requestSend(input: { accountSid: string; to: string; body: string }): Promise<{ id: string }>;
  stop(): Promise<void>;
}
