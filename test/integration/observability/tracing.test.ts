import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { startTracing, type Tracing } from '../../../src/telemetry/start-tracing';
import { customer, startEgressEnv } from '../egress/egress-env';
import { CUSTOMER, SENDER, useWebhookEnv } from '../twilio/webhooks/webhook-env';
import { waitFor } from '../../helpers/wait-for';

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
});
