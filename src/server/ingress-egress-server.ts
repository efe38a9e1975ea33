import Fastify, { type FastifyInstance } from 'fastify';
import type { AppConfig } from '../config';
import type { Logger, Metrics } from '../observability';
import type { EventPublisherPort } from '../connector/event-publisher-port';
import { ConnectorManager } from './connector-manager';
import { Lifecycle, type LifecycleState } from '../common/lifecycle';
import { installApiAuth, installApiErrorHandler, installMetricsGuard, type ApiRouteRecord } from '../api-kit';
import { finishesWithin } from '../common/deadline';

/** Something with an idempotent start/stop (the publisher, the egress consumer, …). */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `stalled`: connected, but publishes are timing out (EventPublisher); readiness is false meanwhile. */
export type ManagedPublisher = EventPublisherPort &
  Startable & {
    readonly stalled?: boolean;
    /** Stops within `timeoutMs` at most (what is not flushed by then is failed and logged). */
    stop(options?: { timeoutMs?: number }): Promise<void>;
    /** Records the stop could not flush. */
    readonly unflushedAtStop?: number;
  };

export interface ServerParts {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  publisher: ManagedPublisher;
  connectors: ConnectorManager;
  /** The egress consumer, when any connector handles egress. */
  egressConsumer?: Startable & { isReady?(): boolean };
  /** Called last on stop (e.g. flush the log destination). */
  onStopped?: () => Promise<void>;
  /** Runs first on start: every topic exists (or is created when KAFKA_CREATE_TOPICS is on). */
  checkTopics?: () => Promise<void>;
  /** Registers routes beside the connectors' (the /api front door); called by prepare() before the connectors. */
  registerRoutes?: (app: FastifyInstance, server: IngressEgressServer) => Promise<void>;
  /** Long-lived helpers of those routes (the API's sms.outcomes follower): started after the connectors, stopped with them. */
  services?: Startable[];
}

/** Longest time a request may take to arrive in full (headers and body). */
export const HTTP_REQUEST_TIMEOUT_MS = 20_000;
/** How often Node checks open connections against the two timeouts below. */
export const HTTP_CONNECTIONS_CHECK_MS = 1_000;
/** Longest time the request headers may take to arrive. */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;

/** Steps of a stop, in order (docs/architecture.md); recorded so tests can check the order. */
export const SHUTDOWN_STEPS = [
  'readiness-false',
  'stop-ingress',
  'drain-egress',
  'stop-connectors',
  'flush-producer',
  'close-http',
  'flush-logs',
] as const;
export type ShutdownStep = (typeof SHUTDOWN_STEPS)[number];

/**
 * The service: one HTTP server (webhooks, health, metrics), one publisher,
 * the connectors and the egress consumer. Built without listening so tests
 * use `app.inject()`; `listen()` binds the port.
 */
export class IngressEgressServer {
  readonly app: FastifyInstance;
  readonly connectors: ConnectorManager;
  private closing = false;
  private listening = false;
  private readonly lifecycle = new Lifecycle(
    'IngressEgressServer',
    () => this.doStart(),
    () => this.doStop(),
  );
  readonly shutdownLog: ShutdownStep[] = [];
  private routesReady: Promise<void> | undefined;
  private readonly routeList: string[] = [];
  private egressStarting: Promise<void> | undefined;
  private egressStarted = false;
  /** Every route under /api with its declared scope and schemas (filled as routes register). */
  readonly apiRoutes: ApiRouteRecord[];

  constructor(private readonly parts: ServerParts) {
    this.connectors = parts.connectors;
    this.app = Fastify({
      logger: false,
      bodyLimit: parts.config.http.bodyLimitBytes,
      trustProxy: true,
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      // Twilio gives up on a webhook after 15 s: a request still arriving after 20 s is a slow client
      // (slowloris), not Twilio; Node's defaults would hold it for 300 s.
      requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
      // Node enforces both timeouts only when it sweeps its connections, every 30 s by default: 500 slowloris
      // sockets stayed open 30-40 s instead of 10 (test/reliability/s7-slow-clients.test.ts). Sweep every second.
      http: { connectionsCheckingInterval: HTTP_CONNECTIONS_CHECK_MS },
    });
    // Headers must be complete within 10 s (Node's default is 60 s).
    this.app.server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
    // The token layer first: every /api route registered after this must declare its scope.
    installApiErrorHandler(this.app, parts.logger.child({ part: 'api' }));
    this.apiRoutes = installApiAuth(this.app, {
      tokens: parts.config.api.tokens,
      rateLimit: parts.config.api.rateLimit,
      auditLogger: parts.logger.child({ part: 'api' }),
    });
    installMetricsGuard(this.app, parts.config.api.metricsTokenSha256);
    this.app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const m of methods) if (m !== 'HEAD') this.routeList.push(`${m} ${route.url}`);
    });
    this.app.addHook('onRequest', async (req, reply) => {
      if (this.closing && req.url.startsWith('/webhooks/')) {
        reply.code(503).header('Retry-After', '5').send({ error: 'shutting down' });
      }
    });
    this.app.get('/healthz', async () => ({ status: 'ok' }));
    this.app.get('/readyz', async (_req, reply) => {
      const health = this.health();
      reply.code(health.ready ? 200 : 503);
      return health;
    });
    this.app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', parts.metrics.registry.contentType);
      return parts.metrics.registry.metrics();
    });
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  get logger(): Logger {
    return this.parts.logger;
  }

  get metrics(): Metrics {
    return this.parts.metrics;
  }

  get publisher(): ManagedPublisher {
    return this.parts.publisher;
  }

  /** Registers every connector's routes; idempotent. Call before inject() or listen(). */
  prepare(): Promise<void> {
    if (!this.routesReady) {
      this.routesReady = (async () => {
        await this.parts.registerRoutes?.(this.app, this);
        for (const c of this.connectors.list()) await c.registerRoutes?.(this.app);
        await this.app.ready();
      })();
    }
    return this.routesReady;
  }

  /** Every route as `METHOD /path` (after prepare()). */
  routes(): string[] {
    return [...this.routeList].sort();
  }

  /**
   * Ready means: HTTP up, the Kafka publisher connected and acknowledging,
   * every connector's ingress parts running, and, once the egress consumer has
   * started, egress consuming. Its first group join and the consent store
   * catching up do not hold readiness back (nothing routes traffic to egress,
   * and it waits for its own prerequisites before it sends), but a consumer
   * that kafkajs stopped for good does, until the restart joins the group.
   */
  health(): {
    ready: boolean;
    state: LifecycleState;
    kafka: boolean;
    egress: { started: boolean; ready: boolean };
    connectors: ReturnType<ConnectorManager['health']>;
  } {
    const connectors = this.connectors.health();
    const kafka = this.parts.publisher.isReady() && !this.parts.publisher.stalled;
    const egress = {
      started: this.egressStarted,
      ready: this.parts.egressConsumer ? (this.parts.egressConsumer.isReady?.() ?? this.egressStarted) : true,
    };
    const ready =
      !this.closing &&
      this.lifecycle.state === 'running' &&
      kafka &&
      (!egress.started || egress.ready) &&
      Object.values(connectors).every((c) => c.ready);
    return { ready, state: this.lifecycle.state, kafka, egress, connectors };
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Binds the HTTP port (after start). Returns the address. */
  async listen(): Promise<string> {
    await this.prepare();
    const address = await this.app.listen({ port: this.parts.config.http.port, host: this.parts.config.http.host });
    this.listening = true;
    this.parts.logger.info({ address }, 'listening');
    return address;
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async doStart(): Promise<void> {
    const t0 = Date.now();
    await this.prepare();
    await this.parts.checkTopics?.();
    await this.parts.publisher.start();
    await this.connectors.start();
    for (const s of this.parts.services ?? []) await s.start();
    // The egress consumer's first group join takes seconds (the broker's initial rebalance delay); it
    // happens in the background so ingress is ready at once. Stop waits for it (drain-egress).
    const egress = this.parts.egressConsumer;
    if (egress) {
      this.egressStarting = egress.start().then(
        () => {
          this.egressStarted = true;
          this.parts.logger.info({ ms: Date.now() - t0 }, 'egress consumer running');
        },
        (err: unknown) => this.parts.logger.error({ err }, 'egress consumer failed to start'),
      );
    }
    this.parts.logger.info({ ms: Date.now() - t0, connectors: this.connectors.list().map((c) => c.id) }, 'started');
  }

  private async doStop(): Promise<void> {
    const { logger } = this.parts;
    const t0 = Date.now();
    const timeoutMs = this.parts.config.shutdownTimeoutMs;
    // The deadline is the exit's: the last steps (flush the logs, let the process end) keep a slice of it,
    // and no step gets extra time once it has passed. A step that runs out is abandoned, not awaited.
    const reserveMs = Math.min(500, Math.round(timeoutMs * 0.1));
    const deadline = t0 + timeoutMs - reserveMs;
    // The producer's flush keeps a share of the time: an egress drain or connectors stuck on an unreachable
    // broker must not take it all, or queued records would be dropped without a word.
    const flushReserveMs = Math.min(5_000, Math.round(timeoutMs * 0.25));
    const timedOut: ShutdownStep[] = [];
    const step = async (name: ShutdownStep, fn: (leftMs: number) => Promise<unknown>, endAt = deadline) => {
      this.shutdownLog.push(name);
      logger.info({ step: name }, 'shutdown step');
      const left = Math.max(endAt - Date.now(), 0);
      try {
        if (!(await finishesWithin(fn(left), left))) {
          timedOut.push(name);
          logger.warn({ step: name }, 'shutdown step exceeded the deadline; continuing');
        }
      } catch (err) {
        logger.error({ err, step: name }, 'shutdown step failed; continuing');
      }
    };
    await step('readiness-false', async () => {
      this.closing = true;
    });
    await step(
      'stop-ingress',
      async () => {
        for (const c of this.connectors.list()) await c.stopIngress?.();
      },
      deadline - flushReserveMs,
    );
    await step(
      'drain-egress',
      async () => {
        await this.egressStarting;
        await this.parts.egressConsumer?.stop();
      },
      deadline - flushReserveMs,
    );
    await step(
      'stop-connectors',
      async () => {
        for (const s of [...(this.parts.services ?? [])].reverse()) await s.stop();
        await this.connectors.stop();
      },
      deadline - flushReserveMs,
    );
    await step('flush-producer', (left) => this.parts.publisher.stop({ timeoutMs: Math.max(left - 50, 0) }));
    await step('close-http', () => this.app.close());
    const unflushed = this.parts.publisher.unflushedAtStop ?? 0;
    const ms = Date.now() - t0;
    if (timedOut.length > 0 || unflushed > 0) {
      logger.warn(
        { ms, deadlineMs: timeoutMs, abandonedSteps: timedOut, unflushedRecords: unflushed },
        'stop reached its deadline with work left: steps abandoned, records not flushed (their senders got a retriable error)',
      );
    }
    this.listening = false;
    logger.info({ ms, deadlineMs: timeoutMs, abandonedSteps: timedOut, unflushedRecords: unflushed }, 'stopped');
    await step('flush-logs', async () => {
      await this.parts.onStopped?.();
    });
  }

  get isListening(): boolean {
    return this.listening;
  }
}
