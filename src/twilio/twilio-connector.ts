import type { FastifyInstance } from 'fastify';
import type { Connector, ConnectorHealth, ConnectorPart, EgressHandler } from '../connector';
import { Lifecycle } from '../common/lifecycle';
import type { ConsentStore } from '../compliance';
import type { EventPublisherPort } from '../connector/event-publisher-port';
import type { MessagesApi } from './egress/messages-api';
import type { SendLedger } from './egress/send-ledger';

/** What the connector lets the HTTP API read and write (src/api): it never sends through these. */
export interface TwilioServices {
  /** The send ledger egress keeps (request → recipients, state, MessageSid). */
  ledger: SendLedger;
  /** The opt-out list egress consults. */
  consent: ConsentStore;
  /** Publishes like the connector's parts: a consent change is applied to `consent` once Kafka acknowledged it. */
  consentPublisher: EventPublisherPort;
  /** Message look-ups (Twilio's Messages resource). */
  messages: MessagesApi;
}

export interface TwilioConnectorParts {
  /** Route registrars (webhooks). */
  routes: ((app: FastifyInstance) => void | Promise<void>)[];
  /** Parts that must be running before ingress/egress work (e.g. the consent store loader). */
  foundations: ConnectorPart[];
  /** Ingress clients that take inbound work on their own (the Conversations session); stopped first. */
  ingress: ConnectorPart[];
  egress?: EgressHandler;
  services?: TwilioServices;
}

/**
 * The Twilio connector: source `twilio`. It owns no logic of its own; it
 * starts its parts in order (foundations, then ingress), stops ingress first
 * on shutdown, and reports their health.
 */
export class TwilioConnector implements Connector {
  readonly id = 'twilio';
  readonly egress: EgressHandler | undefined;
  readonly services: TwilioServices | undefined;
  private readonly lifecycle = new Lifecycle(
    'TwilioConnector',
    () => this.doStart(),
    () => this.doStop(),
  );
  private ingressStopped = false;

  constructor(private readonly parts: TwilioConnectorParts) {
    this.egress = parts.egress;
    this.services = parts.services;
  }

  async registerRoutes(app: FastifyInstance): Promise<void> {
    for (const r of this.parts.routes) await r(app);
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  async stopIngress(): Promise<void> {
    if (this.ingressStopped) return;
    this.ingressStopped = true;
    for (const p of [...this.parts.ingress].reverse()) await p.stop();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** Ready when running with every ingress part ready; foundations (egress prerequisites) are reported, not gating. */
  health(): ConnectorHealth {
    const parts: Record<string, ConnectorHealth> = {};
    for (const p of [...this.parts.foundations, ...this.parts.ingress]) parts[p.name] = p.health();
    const ready = this.lifecycle.state === 'running' && this.parts.ingress.every((p) => parts[p.name]?.ready === true);
    return { ready, state: this.lifecycle.state, details: parts };
  }

  private async doStart(): Promise<void> {
    for (const p of this.parts.foundations) await p.start();
    for (const p of this.parts.ingress) await p.start();
  }

  private async doStop(): Promise<void> {
    await this.stopIngress();
    for (const p of [...this.parts.foundations].reverse()) await p.stop();
  }
}
