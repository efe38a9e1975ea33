import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { startTracing, type Tracing } from '../../../src/telemetry/start-tracing';
import { customer, startEgressEnv } from '../egress/egress-env';
import { CUSTOMER, SENDER, useWebhookEnv } from '../twilio/webhooks/webhook-env';
import { waitFor } from '../../helpers/wait-for';
import { freePort } from '@ingress-egress/sandbox';
import { createEventPublisher } from '../../../src/kafka/create-event-publisher';
import { createMetrics, silentLogger } from '../../../src/observability';
import { buildServer } from '../../../src/server';
import { onCleanup } from '../../helpers/cleanup';
import { testConfig } from '../../helpers/config';
import { createTestTopics, topicEnv, uniqueName } from '../../helpers/kafka';
import { followTopics } from '../../helpers/kafka-consumer';
import {
  CALLER,
  callSidOf,
  FORWARD_NUMBER,
  incomingCall,
  postSigned,
  VOICE_ACCOUNT,
  VOICE_TOKEN,
  writeRoutingFile,
} from '../../helpers/voice-calls';

jest.setTimeout(120_000);

/**
 * The SDK as src/main.ts starts it (OTEL_TRACES_EXPORTER set), its spans kept
 * in the SDK's in-memory exporter: one inbound webhook and one egress request
 * must give the expected span trees, linked across the Kafka hop by the
 * records' traceparent headers.
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
beforeAll(() => {
  tracing = startTracing({ OTEL_TRACES_EXPORTER: 'console' }, { processor: new SimpleSpanProcessor(exporter) });
});
afterAll(async () => {
  await tracing?.shutdown();
});

const spans = () => exporter.getFinishedSpans();
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const childrenOf = (parent: ReadableSpan, all: ReadableSpan[]) =>
  all.filter(
    (s) => parentOf(s) === parent.spanContext().spanId && s.spanContext().traceId === parent.spanContext().traceId,
  );
const named = (name: string, all: ReadableSpan[]) => all.filter((s) => s.name === name);

describe('tracing (OpenTelemetry SDK, in-memory exporter)', () => {
  const webhooks = useWebhookEnv();

  it('traces an inbound webhook: server span → signature → producer span ended by Kafka’s ack, traceparent on the record', async () => {
    expect(tracing?.exporter).toBe('console');
    const env = await webhooks.start();
    exporter.reset();
    const sent = await env.sim.sendInbound({ from: CUSTOMER, to: SENDER, body: 'trace me' });
    expect(sent.statusCodes).toEqual([200]);
    const { records } = await env.envelopes(env.topics.inbound, 1);

    const all = spans();
    const [server] = named('POST /webhooks/twilio/sms', all);
    expect(server).toBeDefined();
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(server!.attributes).toMatchObject({
      'http.route': '/webhooks/twilio/sms',
      'http.response.status_code': 200,
    });
    const children = childrenOf(server!, all);
    expect(children.map((s) => s.name).sort()).toEqual(['send ' + env.topics.inbound, 'webhook signature'].sort());
    const producer = children.find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': env.topics.inbound,
      'messaging.operation.type': 'send',
      'messaging.destination.partition.id': String(records[0]!.partition),
      'messaging.kafka.offset': Number(records[0]!.offset),
    });
    // The key is the customer's number: redacted as in logs.
    expect(JSON.stringify(all.map((s) => s.attributes))).not.toContain(CUSTOMER);
    // The record carries the producer span's context.
    const traceparent = records[0]!.headers.traceparent;
    expect(traceparent).toBe(`00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-01`);
  });

  it('traces an egress request from its producer through the consumer, every stage and the Twilio call to the outcome', async () => {
    const env = await startEgressEnv();
    const request = env.request({ to: customer(1), body: 'traced hello' });
    // The producer (here the test) publishes inside a span of its own: the request is its child.
    exporter.reset();
    const tracer = trace.getTracer('test-producer');
    const root = tracer.startSpan('checkout');
    await context.with(trace.setSpan(context.active(), root), () => env.producer.publish(request));
    root.end();
    const server = env.service();
    await server.start();
    const [outcome] = await env.read(env.topics.outcomes, 1);
    expect(JSON.parse(outcome!.value!.toString()).type).toBe('sms.outbound.accepted');
    await waitFor(() => named(`process ${env.topics.egress}`, spans()).length === 1, 10_000, 'the consumer span');

    const all = spans();
    const consumer = named(`process ${env.topics.egress}`, all)[0]!;
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    // Parent across the Kafka hop: the producer span of the test's publish, in the test's trace.
    const [producer] = named(`send ${env.topics.egress}`, all).filter(
      (s) => s.spanContext().traceId === root.spanContext().traceId,
    );
    expect(producer).toBeDefined();
    expect(producer!.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(producer!)).toBe(root.spanContext().spanId);
    expect(consumer.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(parentOf(consumer)).toBe(producer!.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': env.topics.egress,
      'messaging.operation.type': 'process',
      'messaging.message.id': request.id,
    });
    expect(typeof consumer.attributes['messaging.kafka.offset']).toBe('number');
    const stages = childrenOf(consumer, all).filter((s) => s.name.startsWith('egress stage '));
    expect(stages.map((s) => s.attributes['egress.stage'])).toEqual(
      expect.arrayContaining(['ledger', 'validate', 'consent', 'rate-limit', 'circuit-breaker', 'send', 'outcome']),
    );
    // The send stage holds the Twilio HTTP call (a client span).
    const send = stages.find((s) => s.attributes['egress.stage'] === 'send')!;
    const http = all.filter(
      (s) => s.kind === SpanKind.CLIENT && s.spanContext().traceId === root.spanContext().traceId,
    );
    const twilioCall = http.find((s) => s.attributes['twilio.resource'] === 'Messages')!;
    expect(twilioCall).toBeDefined();
    expect(twilioCall.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201 });
    const ancestors = (s: ReadableSpan): string[] => {
      const p = all.find((x) => x.spanContext().spanId === parentOf(s));
      return p ? [p.name, ...ancestors(p)] : [];
    };
    expect(ancestors(twilioCall)).toContain(send.name);
    // The outcome stage publishes the outcome: a producer span whose context is on the outcome record.
    const outcomeStage = stages.find((s) => s.attributes['egress.stage'] === 'outcome')!;
    const outcomeSend = all.find(
      (s) => s.name === `send ${env.topics.outcomes}` && ancestors(s).includes(outcomeStage.name),
    )!;
    expect(outcomeSend).toBeDefined();
    expect(outcome!.headers.traceparent).toBe(
      `00-${root.spanContext().traceId}-${outcomeSend.spanContext().spanId}-01`,
    );
    // The ledger records the service wrote for this request carry the trace too (every record it writes).
    const ledgerSends = all.filter(
      (s) => s.name === `send ${env.ledgerTopic}` && s.spanContext().traceId === root.spanContext().traceId,
    );
    expect(ledgerSends.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(all.map((s) => s.attributes))).not.toContain(customer(1));
  });

  it('traces an incoming voice call: server span → signature, and the outbox publish of its event → Kafka ack, traceparent on the record', async () => {
    const topics = await createTestTopics('trace-voice');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = testConfig({
      HTTP_PORT: String(port),
      KAFKA_GROUP_ID: uniqueName('trace-voice-group'),
      ...topicEnv(topics),
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: VOICE_ACCOUNT,
      TWILIO_AUTH_TOKEN: VOICE_TOKEN,
      TWILIO_WEBHOOK_BASE_URL: base,
      VOICE_ROUTING_FILE: writeRoutingFile(),
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const publisher = createEventPublisher(config, { logger: silentLogger, metrics });
    const server = buildServer(config, { logger: silentLogger, metrics, publisher });
    onCleanup(() => server.stop());
    await server.start();
    await server.listen();
    const reader = await followTopics([topics.voiceCalls], { groupPrefix: 'trace-voice-reader' });
    exporter.reset();

    // Two calls at once: the outbox publishes them in one round, yet each record belongs to its own call's trace.
    const answers = await Promise.all(
      [7001, 7002].map((n) => postSigned(`${base}/webhooks/twilio/voice`, incomingCall(n, FORWARD_NUMBER))),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const records = await reader.until(
      topics.voiceCalls,
      (all) => [7001, 7002].every((n) => all.some((r) => r.key === callSidOf(n))),
      20_000,
    );
    await waitFor(() => named(`send ${topics.voiceCalls}`, spans()).length >= 2, 10_000, 'the producer spans');

    const all = spans();
    const webhooks = named('POST /webhooks/twilio/voice', all);
    expect(webhooks).toHaveLength(2);
    for (const webhook of webhooks) {
      expect(webhook.kind).toBe(SpanKind.SERVER);
      expect(webhook.attributes).toMatchObject({
        'http.route': '/webhooks/twilio/voice',
        'http.response.status_code': 200,
      });
      const signature = childrenOf(webhook, all).find((s) => s.name === 'webhook signature');
      expect(signature?.attributes['twilio.signature.valid']).toBe(true);
    }
    // The event goes through the on-disk outbox and is published after the answer: its producer span is in
    // its call's trace, a child of that call's webhook span, ended by Kafka's acknowledgement, and its context
    // is the record's traceparent.
    const traces = new Set<string>();
    for (const n of [7001, 7002]) {
      const record = records.find((r) => r.key === callSidOf(n))!;
      const producer = named(`send ${topics.voiceCalls}`, all).find(
        (s) => record.headers.traceparent === `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`,
      );
      expect(producer).toBeDefined();
      expect(producer!.kind).toBe(SpanKind.PRODUCER);
      expect(producer!.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.destination.name': topics.voiceCalls,
        'messaging.destination.partition.id': String(record.partition),
        'messaging.kafka.offset': Number(record.offset),
      });
      const webhook = webhooks.find((w) => w.spanContext().traceId === producer!.spanContext().traceId);
      expect(webhook).toBeDefined();
      expect(parentOf(producer!)).toBe(webhook!.spanContext().spanId);
      traces.add(producer!.spanContext().traceId);
    }
    expect(traces.size).toBe(2);
    expect(JSON.stringify(all.map((s) => s.attributes))).not.toContain(CALLER);
  });

  it('traces POST /api/sms: API span → publish (traceparent on the sms.egress record) → the egress consumer continues it', async () => {
    const env = await startEgressEnv();
    const port = await freePort();
    const token = 'c'.repeat(40);
    const server = env.service({
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      API_TOKENS: `backend:send+read:${token}`,
    });
    await server.start();
    const url = await server.listen();
    exporter.reset();

    const to = customer(77);
    const answer = await fetch(`${url}/api/sms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to, body: 'traced from the api' }),
    });
    expect(answer.status).toBe(202);
    const [outcome] = await env.read(env.topics.outcomes, 1);
    const [request] = await env.read(env.topics.egress, 1);
    await waitFor(() => named(`process ${env.topics.egress}`, spans()).length === 1, 10_000, 'the consumer span');

    const all = spans();
    const [api] = named('POST /api/sms', all);
    expect(api).toBeDefined();
    expect(api!.kind).toBe(SpanKind.SERVER);
    const traceId = api!.spanContext().traceId;
    // The request record is published by a producer span under the API span; its context is on the record.
    const publish = named(`send ${env.topics.egress}`, all).find((s) => s.spanContext().traceId === traceId)!;
    expect(publish).toBeDefined();
    expect(parentOf(publish)).toBe(api!.spanContext().spanId);
    expect(request!.headers.traceparent).toBe(`00-${traceId}-${publish.spanContext().spanId}-01`);
    // The egress consumer continues the trace across the Kafka hop.
    const consumer = named(`process ${env.topics.egress}`, all)[0]!;
    expect(consumer.spanContext().traceId).toBe(traceId);
    expect(parentOf(consumer)).toBe(publish.spanContext().spanId);
    // Every record the service wrote for this request (outcome, ledger) carries a traceparent of this trace,
    // naming the producer span that wrote it.
    const written = all.filter((s) => s.kind === SpanKind.PRODUCER && s.spanContext().traceId === traceId);
    expect(written.map((s) => s.name)).toEqual(
      expect.arrayContaining([`send ${env.topics.egress}`, `send ${env.topics.outcomes}`, `send ${env.ledgerTopic}`]),
    );
    const outcomeSend = written.find((s) => s.name === `send ${env.topics.outcomes}`)!;
    expect(outcome!.headers.traceparent).toBe(`00-${traceId}-${outcomeSend.spanContext().spanId}-01`);
    const ledger = await env.read(env.ledgerTopic, 1);
    for (const r of ledger) {
      expect(r.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    }
    expect(JSON.stringify(all.map((s) => s.attributes))).not.toContain(to);
  });
});
