import { Lifecycle } from '../../../src/common/lifecycle';
import type { Connector } from '../../../src/connector/connector';
import { buildServer, ConnectorManager } from '../../../src/server';
import { silentLogger } from '../../../src/observability';
import { testConfig } from '../../helpers/config';
import { MemoryPublisher } from '../../helpers/memory-publisher';
import { waitFor } from '../../helpers/wait-for';

function fakeConnector(id: string, log: string[], dependsOn: string[] = []): Connector {
  let ready = false;
  return {
    id,
    dependsOn,
    registerRoutes(app) {
      app.post(`/webhooks/${id}/ping`, async () => ({ ok: true }));
    },
    async start() {
      log.push(`start:${id}`);
      ready = true;
    },
    async stopIngress() {
      log.push(`stopIngress:${id}`);
    },
    async stop() {
      log.push(`stop:${id}`);
      ready = false;
    },
    health: () => ({ ready, state: ready ? 'running' : 'stopped' }),
  };
}

describe('IngressEgressServer', () => {
  it('starts and stops cleanly with no connectors (Twilio disabled)', async () => {
    const publisher = new MemoryPublisher();
    const server = buildServer(testConfig(), { publisher, connectors: [], logger: silentLogger });
    await server.prepare();
    expect((await server.app.inject('/readyz')).statusCode).toBe(503);
    await server.start();
    expect((await server.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await server.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ ready: true, kafka: true });
    const metrics = await server.app.inject('/metrics');
    expect(metrics.body).toContain('twilio_messages_sent_total');
    await server.stop();
    await server.stop();
    expect(publisher.stopped).toBe(true);
    expect(server.state).toBe('stopped');
  });

  it('bounds how long a slow client may hold a connection (headers 10 s, whole request 20 s; Node: 60 s / 300 s)', async () => {
    const server = buildServer(testConfig(), {
      publisher: new MemoryPublisher(),
      connectors: [],
      logger: silentLogger,
    });
    expect(server.app.server.headersTimeout).toBe(10_000);
    expect(server.app.server.requestTimeout).toBe(20_000);
    await server.stop();
  });

  it('is not ready while Kafka is down', async () => {
    const publisher = new MemoryPublisher();
    const server = buildServer(testConfig(), { publisher, connectors: [], logger: silentLogger });
    await server.start();
    publisher.down = true;
    expect((await server.app.inject('/readyz')).statusCode).toBe(503);
    await server.stop();
  });

  it('is not ready while the started egress consumer is down (kafkajs stopped it), and ready once it consumes again', async () => {
    let consuming = true;
    const egressConsumer = { start: async () => {}, stop: async () => {}, isReady: () => consuming };
    const publisher = new MemoryPublisher();
    const server = buildServer(testConfig(), { publisher, connectors: [], egressConsumer, logger: silentLogger });
    await server.start();
    await waitFor(() => server.health().egress.started, 2000, 'egress to start');
    expect((await server.app.inject('/readyz')).statusCode).toBe(200);
    consuming = false;
    const down = await server.app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ready: false, egress: { started: true, ready: false } });
    consuming = true;
    expect((await server.app.inject('/readyz')).statusCode).toBe(200);
    await server.stop();
  });

  it('is not ready while Kafka is connected but publishes time out (a hung broker), and ready once they succeed', async () => {
    const publisher = new MemoryPublisher();
    const server = buildServer(testConfig(), { publisher, connectors: [], logger: silentLogger });
    await server.start();
    publisher.stalled = true;
    const hung = await server.app.inject('/readyz');
    expect(hung.statusCode).toBe(503);
    expect(hung.json()).toMatchObject({ ready: false, kafka: false });
    publisher.stalled = false;
    expect((await server.app.inject('/readyz')).statusCode).toBe(200);
    await server.stop();
  });

  it('stops in the documented order and answers 503 to webhooks while stopping', async () => {
    const log: string[] = [];
    const publisher = new MemoryPublisher();
    let duringStop: number | undefined;
    const server = buildServer(testConfig(), {
      publisher,
      connectors: [fakeConnector('b', log, ['a']), fakeConnector('a', log)],
      logger: silentLogger,
      egressConsumer: {
        start: async () => void log.push('start:egress'),
        stop: async () => {
          log.push('stop:egress');
          duringStop = (await server.app.inject({ method: 'POST', url: '/webhooks/a/ping' })).statusCode;
        },
      },
    });
    publisher.onStop = () => log.push('stop:publisher');
    await server.start();
    expect((await server.app.inject({ method: 'POST', url: '/webhooks/a/ping' })).statusCode).toBe(200);
    await server.stop();
    expect(log).toEqual([
      'start:a',
      'start:b',
      'start:egress',
      'stopIngress:b',
      'stopIngress:a',
      'stop:egress',
      'stop:b',
      'stop:a',
      'stop:publisher',
    ]);
    expect(duringStop).toBe(503);
    expect(server.shutdownLog).toEqual([
      'readiness-false',
      'stop-ingress',
      'drain-egress',
      'stop-connectors',
      'flush-producer',
      'close-http',
      'flush-logs',
    ]);
  });
});

describe('ConnectorManager', () => {
  it('rejects duplicates, unknown dependencies and cycles', () => {
    const m = new ConnectorManager(silentLogger);
    m.register(fakeConnector('a', [], ['b']));
    expect(() => m.register(fakeConnector('a', []))).toThrow(/already registered/);
    expect(() => m.startOrder()).toThrow(/unknown connector b/);
    m.register(fakeConnector('b', [], ['a']));
    expect(() => m.startOrder()).toThrow(/cycle/);
  });

  it('stops what it started when a later connector fails to start', async () => {
    const log: string[] = [];
    const m = new ConnectorManager(silentLogger);
    m.register(fakeConnector('a', log));
    m.register({ ...fakeConnector('b', log, ['a']), start: async () => Promise.reject(new Error('nope')) });
    await expect(m.start()).rejects.toThrow(/connector failed to start: nope/);
    expect(log).toEqual(['start:a', 'stop:a']);
  });

  it('routes egress by source', () => {
    const m = new ConnectorManager(silentLogger);
    const handler = { handle: async () => undefined };
    m.register({ ...fakeConnector('twilio', []), egress: handler });
    expect(m.egressHandlerFor('twilio')).toBe(handler);
    expect(m.egressHandlerFor('other')).toBeUndefined();
  });
});

describe('Lifecycle', () => {
  it('shares one in-flight start and never restarts after stop', async () => {
    let starts = 0;
    const l = new Lifecycle(
      'x',
      async () => void starts++,
      async () => undefined,
    );
    await Promise.all([l.start(), l.start()]);
    expect(starts).toBe(1);
    expect(l.state).toBe('running');
    await l.stop();
    await expect(l.start()).rejects.toThrow(/cannot be started again/);
  });
});
