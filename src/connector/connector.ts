import type { FastifyInstance } from 'fastify';
import type { EgressPriority, InternalEventV2 } from '../envelope';

export interface ConnectorHealth {
  ready: boolean;
  /** A named state, e.g. `running`, `connecting`, `denied`. */
  state: string;
  details?: Record<string, unknown>;
}

/** A long-lived part of a connector (Conversations session, consent loader, …), started and stopped with it. */
export interface ConnectorPart {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): ConnectorHealth;
}

/** The result of handling one egress envelope. Business failures are outcomes, not throws. */
export interface EgressHandler {
  /**
   * Handles one `sms.egress` envelope whose `source` is this connector's.
   * Resolves after its single outcome is on Kafka; throws only retriable
   * infrastructure errors (the record is then retried, not committed).
   */
  handle(event: InternalEventV2, context: EgressContext): Promise<void>;
}

/** What the egress consumer learns about its assignment (see EgressConsumer). */
export interface AssignmentInfo {
  /** Partitions of the egress topic this instance holds. */
  assigned: number;
  /** Partitions of the egress topic in total. */
  total: number;
  /** The lane (priority) whose topic this assignment is of; absent = `normal` (the main egress topic). */
  lane?: EgressPriority;
}

export interface EgressContext {
  topic: string;
  partition: number;
  offset: string;
  /** The record's Kafka timestamp (ms since epoch), when the consumer knows it. */
  timestamp?: number | undefined;
  /** Keeps the consumer's group session alive during long work. */
  heartbeat(): Promise<void>;
  /** Aborted when the consumer is stopping or loses the partition. */
  signal: AbortSignal;
}

/**
 * A connector plugs a channel (Twilio today) into the service: ingress routes,
 * long-lived ingress clients (started/stopped with the server) and an egress
 * handler for the events whose `source` names it.
 */
export interface Connector {
  /** Unique id, also the egress `source` it handles (e.g. `twilio`). */
  readonly id: string;
  /** Ids of connectors that must start before this one. */
  readonly dependsOn?: readonly string[];
  /** Adds HTTP routes (called once, before the server listens). */
  registerRoutes?(app: FastifyInstance): void | Promise<void>;
  readonly egress?: EgressHandler;
  start(): Promise<void>;
  /** Stops taking new inbound work (e.g. closes the Conversations socket); called before the egress drain. */
  stopIngress?(): Promise<void>;
  /** Stops everything else; called after the egress consumer drained. */
  stop(): Promise<void>;
  health(): ConnectorHealth;
}
