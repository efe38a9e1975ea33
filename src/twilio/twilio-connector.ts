import type { FastifyInstance } from 'fastify';
import type { Connector, ConnectorHealth, ConnectorPart, EgressHandler } from '../connector';
import { Lifecycle } from '../common/lifecycle';

export interface TwilioConnectorParts {
  /** Route registrars (webhooks). */
  routes: ((app: FastifyInstance) => void | Promise<void>)[];
  /** Parts that must be running before ingress/egress work (e.g. the consent store loader). */
  foundations: ConnectorPart[];
  /** Ingress clients that take inbound work on their own (the Conversations session); stopped first. */
  ingress: ConnectorPart[];
  egress?: EgressHandler;
}

/**
 * The Twilio connector: source `twilio`. It owns no logic of its own; it
 * starts its parts in order (foundations, then ingress), stops ingress first
 * on shutdown, and reports their health.
 */
export class TwilioConnector implements Connector {
  readonly id = 'twilio';
  readonly egress: EgressHandler | undefined;
  private readonly lifecycle = new Lifecycle(
    'TwilioConnector',
    () => this.doStart(),
    () => this.doStop(),
  );
  private ingressStopped = false;

  constructor(private readonly parts: TwilioConnectorParts) {
    this.egress = parts.egress;
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
