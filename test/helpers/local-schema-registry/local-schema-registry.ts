import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IngressEgressError } from '../../../src/errors';
import { createRegistryHandler } from './registry-routes';
import { RegistryStore } from './registry-store';

export interface LocalSchemaRegistryOptions {
  /** Interface to bind; 127.0.0.1 so tests never expose it. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

type State = 'idle' | 'starting' | 'listening' | 'stopping' | 'stopped';

/**
 * A small Confluent-REST-compatible Schema Registry for tests and the local
 * sandbox (in memory). start()/stop() are idempotent and share one in-flight
 * promise; a stopped registry does not start again (its schemas are gone, and
 * ids handed out earlier would be reused).
 */
export class LocalSchemaRegistry {
  readonly store = new RegistryStore();
  private server: Server | undefined;
  private state: State = 'idle';
  private starting: Promise<string> | undefined;
  private stopping: Promise<void> | undefined;
  private address: string | undefined;

  constructor(private readonly options: LocalSchemaRegistryOptions = {}) {}

  get url(): string {
    if (!this.address) throw new IngressEgressError('IE_LIFECYCLE', 'local Schema Registry is not listening');
    return this.address;
  }

  get status(): State {
    return this.state;
  }

  start(): Promise<string> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      return Promise.reject(new IngressEgressError('IE_LIFECYCLE', 'a stopped Schema Registry cannot be restarted'));
    }
    this.starting ??= this.listen();
    return this.starting;
  }

  private listen(): Promise<string> {
    this.state = 'starting';
    const server = createServer(createRegistryHandler(this.store));
    server.keepAliveTimeout = 5000;
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    return new Promise<string>((resolve, reject) => {
      server.once('error', (err) => {
        this.state = 'idle';
        this.starting = undefined;
        this.server = undefined;
        reject(
          new IngressEgressError('IE_INTERNAL', `local Schema Registry could not listen: ${err.message}`, {
            cause: err,
          }),
        );
      });
      server.listen(this.options.port ?? 0, host, () => {
        const { port } = server.address() as AddressInfo;
        this.address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
        this.state = 'listening';
        resolve(this.address);
      });
    });
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const starting = this.starting;
    this.state = 'stopping';
    this.stopping = (async () => {
      await starting?.catch(() => undefined);
      const server = this.server;
      this.server = undefined;
      this.address = undefined;
      if (server?.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Clients keep sockets alive; without this close() waits for them.
          server.closeAllConnections();
        });
      }
      this.state = 'stopped';
    })();
    return this.stopping;
  }
}
