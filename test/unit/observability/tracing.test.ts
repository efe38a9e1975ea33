import { context, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import {
  extractTraceContext,
  inServerSpan,
  inSpan,
  injectTraceHeaders,
  kafkaAttributes,
  startSpan,
} from '../../../src/observability/tracing';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => provider.register());
afterAll(() => provider.shutdown());
beforeEach(() => exporter.reset());

describe('tracing helpers', () => {
  it('inServerSpan names the route, records the status code once the answer settles', async () => {
    let status = 0;
    await inServerSpan(
      'POST',
      '/api/sms',
      () => status,
      async () => {
        status = 202;
      },
    );
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('POST /api/sms');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.attributes).toMatchObject({ 'http.route': '/api/sms', 'http.response.status_code': 202 });
  });

  it('marks a failed span with the error code, never its message', async () => {
    const err = Object.assign(new Error('failed for +14155550123'), { code: 'IE_KAFKA_UNAVAILABLE' });
    await expect(inSpan('work', {}, () => Promise.reject(err))).rejects.toBe(err);
    const [span] = exporter.getFinishedSpans();
    expect(span!.attributes['error.type']).toBe('IE_KAFKA_UNAVAILABLE');
    expect(JSON.stringify([span!.attributes, span!.status, span!.events])).not.toContain('4155550123');
  });

  it('carries a span across record headers: the consumer side continues the producer’s trace', () => {
    const producer = startSpan('send sms.egress', { kind: SpanKind.PRODUCER });
    const headers: Record<string, string | Buffer | undefined> = {};
    injectTraceHeaders(producer, headers);
    producer.end();
    const c = producer.spanContext();
    expect(headers.traceparent).toBe(`00-${c.traceId}-${c.spanId}-01`);
    const consumer = startSpan('process sms.egress', {
      kind: SpanKind.CONSUMER,
      parent: extractTraceContext({ traceparent: Buffer.from(headers.traceparent as string) }),
    });
    consumer.end();
    const done = exporter.getFinishedSpans().find((s) => s.name === 'process sms.egress')!;
    expect(done.spanContext().traceId).toBe(c.traceId);
    expect(done.parentSpanContext?.spanId).toBe(c.spanId);
  });

  it('starts a new trace for a record without traceparent', () => {
    const s = startSpan('process x', { parent: extractTraceContext({}) });
    s.end();
    expect(exporter.getFinishedSpans()[0]!.parentSpanContext).toBeUndefined();
  });

  it('gives the messaging attributes with the key’s number redacted', () => {
    const a = kafkaAttributes({ topic: 't', operation: 'send', partition: 2, offset: '7', key: '+14155550123' });
    expect(a).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 't',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 7,
    });
    expect(String(a['messaging.kafka.message.key'])).not.toContain('4155550123');
  });

  it('makes a span the active one by default, and not with active: false (what fn starts gets the caller’s span)', async () => {
    await inSpan('outer', {}, async () => {
      await inSpan('active', {}, async () => startSpan('under active').end());
      await inSpan('leaf', { active: false, attributes: { a: 1 } }, async (leaf) => {
        expect(trace.getActiveSpan()).not.toBe(leaf);
        startSpan('under leaf').end();
      });
    });
    const spans = exporter.getFinishedSpans();
    const id = (name: string) => spans.find((s) => s.name === name)!.spanContext().spanId;
    const parent = (name: string) => spans.find((s) => s.name === name)!.parentSpanContext?.spanId;
    expect(parent('under active')).toBe(id('active'));
    expect(parent('under leaf')).toBe(id('outer'));
    expect(parent('leaf')).toBe(id('outer'));
    expect(spans.find((s) => s.name === 'leaf')!.attributes).toEqual({ a: 1 });
  });

  it('gives a span that does not record (its trace not sampled) no attributes, and writes no headers for it', async () => {
    const unsampled = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
    });
    const headers: Record<string, string | Buffer | undefined> = {};
    const r = await inSpan('not sampled', { parent: unsampled, attributes: { a: 1 } }, async (span) => {
      expect(span.isRecording()).toBe(false);
      injectTraceHeaders(span, headers);
      return 'ran';
    });
    expect(r).toBe('ran');
    expect(headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('builds attributes given as a function only for a span that records (no cost while tracing is off)', async () => {
    const unsampled = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
    });
    const build = jest.fn(() => kafkaAttributes({ topic: 'sms.egress', operation: 'process', key: '+14155550123' }));
    await inSpan('not sampled', { parent: unsampled, attributes: build }, async () => undefined);
    expect(build).not.toHaveBeenCalled();
    await inSpan('sampled', { attributes: build }, async () => undefined);
    expect(build).toHaveBeenCalledTimes(1);
    const [span] = exporter.getFinishedSpans();
    expect(span!.attributes).toMatchObject({ 'messaging.destination.name': 'sms.egress' });
  });

  it('writes the tracestate a trace carries next to traceparent', () => {
    const parent = extractTraceContext({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=abc',
    });
    const span = startSpan('send x', { kind: SpanKind.PRODUCER, parent });
    const headers: Record<string, string | Buffer | undefined> = {};
    injectTraceHeaders(span, headers);
    span.end();
    expect(headers).toEqual({
      traceparent: `00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`,
      tracestate: 'vendor=abc',
    });
  });
});
