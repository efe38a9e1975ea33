import { IngressEgressError } from '../errors';
import type { Logger } from '../observability';
import type { Connector, ConnectorHealth, EgressHandler } from '../connector/connector';
import { Lifecycle } from '../common/lifecycle';

/**
 * Registers connectors, starts them in dependency order and stops them in
 * reverse. Routes egress events by `source` to the connector of that id.
 */
export class ConnectorManager {
  private readonly connectors = new Map<string, Connector>();
  private order: Connector[] = [];
  private readonly lifecycle = new Lifecycle(
    'ConnectorManager',
    () => this.startAll(),
    () => this.stopAll(),
  );

  constructor(private readonly logger: Logger) {}

  register(connector: Connector): void {
    if (this.lifecycle.state !== 'idle') {
      throw new IngressEgressError('IE_CONNECTOR', `cannot register ${connector.id} after start`);
    }
    if (this.connectors.has(connector.id)) {
      throw new IngressEgressError('IE_CONNECTOR', `connector ${connector.id} is already registered`);
    }
    this.connectors.set(connector.id, connector);
  }

  list(): Connector[] {
    return [...this.connectors.values()];
  }

  get(id: string): Connector | undefined {
    return this.connectors.get(id);
  }

  egressHandlerFor(source: string): EgressHandler | undefined {
    return this.connectors.get(source)?.egress;
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  health(): Record<string, ConnectorHealth> {
    const out: Record<string, ConnectorHealth> = {};
    for (const c of this.connectors.values()) out[c.id] = c.health();
    return out;
  }

  /** Topological order; a missing dependency or a cycle is a configuration bug. */
  startOrder(): Connector[] {
    const visited = new Map<string, 'visiting' | 'done'>();
    const order: Connector[] = [];
    const visit = (c: Connector, path: string[]) => {
      const mark = visited.get(c.id);
      if (mark === 'done') return;
      if (mark === 'visiting')
        throw new IngressEgressError('IE_CONNECTOR', `connector dependency cycle: ${[...path, c.id].join(' → ')}`);
      visited.set(c.id, 'visiting');
      for (const dep of c.dependsOn ?? []) {
        const d = this.connectors.get(dep);
        if (!d) throw new IngressEgressError('IE_CONNECTOR', `connector ${c.id} depends on unknown connector ${dep}`);
        visit(d, [...path, c.id]);
      }
      visited.set(c.id, 'done');
      order.push(c);
    };
    for (const c of this.connectors.values()) visit(c, []);
    return order;
  }

  private async startAll(): Promise<void> {
    this.order = this.startOrder();
    const started: Connector[] = [];
    try {
      for (const c of this.order) {
        this.logger.info({ connector: c.id }, 'starting connector');
        await c.start();
        started.push(c);
      }
    } catch (err) {
      for (const c of started.reverse()) await c.stop().catch(() => undefined);
      throw new IngressEgressError('IE_CONNECTOR', `connector failed to start: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private async stopAll(): Promise<void> {
    for (const c of [...this.order].reverse()) {
      try {
        await c.stop();
        this.logger.info({ connector: c.id }, 'connector stopped');
      } catch (err) {
        this.logger.error({ err, connector: c.id }, 'connector failed to stop cleanly');
      }
    }
  }
}
