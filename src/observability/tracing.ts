/**
 * OpenTelemetry tracing through the API only: spans, W3C trace-context
 * propagation through Kafka record headers, and the messaging attributes of
 * OTel's semantic conventions. Without an SDK (src/telemetry, started by
 * src/main.ts when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is
 * set) every call here is the API's no-op: nothing is recorded and no header
 * is written. Attributes never carry a body or a secret, and phone numbers
 * (record keys, error messages) are redacted as in logs.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { redactPhonesInText } from './redact';

export { SpanKind, type Span };

export const TRACER_NAME = 'ingress-egress';

/** The W3C Trace Context headers (the CloudEvents Distributed Tracing extension's attributes). */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

const tracer = trace.getTracer(TRACER_NAME);

export interface SpanOptions {
  kind?: SpanKind;
  /**
   * Set on the span once it is known to be recording (never on a no-op span, and not given to the sampler: the
   * samplers this service is run with read no attributes). A function is called only then: attributes that cost
   * something to build (a redacted key) cost nothing while tracing is off.
   */
  attributes?: Attributes | (() => Attributes);
  /** The parent; default the active context. */
  parent?: Context;
  /**
   * False: `fn` runs in the caller's context, not in one where this span is the active one (what it starts gets the
   * caller's span as parent and its log lines the caller's ids). For work that starts no span of its own; saves a
   * context and an AsyncLocalStorage run per call. Default true.
   */
  active?: boolean;
}

/** The start options of each kind, made once (the SDK only reads them). */
const KIND_OPTIONS: Record<SpanKind, { kind: SpanKind }> = {
  [SpanKind.INTERNAL]: { kind: SpanKind.INTERNAL },
  [SpanKind.SERVER]: { kind: SpanKind.SERVER },
  [SpanKind.CLIENT]: { kind: SpanKind.CLIENT },
  [SpanKind.PRODUCER]: { kind: SpanKind.PRODUCER },
  [SpanKind.CONSUMER]: { kind: SpanKind.CONSUMER },
};

function begin(name: string, options: SpanOptions, parent: Context): Span {
  const span = tracer.startSpan(name, KIND_OPTIONS[options.kind ?? SpanKind.INTERNAL], parent);
  // After the start: the SDK copies and checks start attributes three times, setAttributes once; a no-op span
  // (tracing off or not sampled) gets none.
  if (options.attributes !== undefined && span.isRecording()) {
    span.setAttributes(typeof options.attributes === 'function' ? options.attributes() : options.attributes);
  }
  return span;
}

/**
 * Runs `fn` inside a new span (the active one, unless `options.active` is false) and ends it when `fn` settles. A
 * thrown error marks the span as failed with its code or name (never its message, which may quote a number) and
 * is rethrown.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = begin(name, options, parent);
  const run = async (): Promise<T> => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  };
  return options.active === false ? run() : context.with(trace.setSpan(parent, span), run);
}

/**
 * An HTTP route's answer in a server span (`POST /route`); its status code is read once the answer settles. A
 * caller that sends no trace context starts a trace.
 */
export function inServerSpan<T>(method: string, route: string, status: () => number, fn: () => Promise<T>): Promise<T> {
  return inSpan(
    `${method} ${route}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
    async (span) => {
      const r = await fn();
      span.setAttribute('http.response.status_code', status());
      return r;
    },
  );
}

/** Starts a span that the caller ends (one whose end is not a promise's settling in this scope). */
export function startSpan(name: string, options: SpanOptions = {}): Span {
  return begin(name, options, options.parent ?? context.active());
}

/** Marks a span failed: `error.type` is the error's code (IE_*, a Node code) or its class name. */
export function failSpan(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const code = (err as { code?: unknown } | null)?.code;
  const type = typeof code === 'string' || typeof code === 'number' ? String(code) : errorName(err);
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

/** The current span's ids for a log line, or nothing outside a sampled span. */
export function traceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const c = span.spanContext();
  return trace.isSpanContextValid(c) ? { trace_id: c.traceId, span_id: c.spanId } : undefined;
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

const kafkaHeaderGetter: TextMapGetter<Record<string, HeaderValue>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    return last === undefined ? undefined : last.toString();
  },
};

/** The active trace context, kept by work that runs later in another async flow (a queued publish). */
export type TraceContext = Context;
export function activeTraceContext(): TraceContext {
  return context.active();
}

/**
 * Runs `fn` in a trace context kept earlier (`activeTraceContext`), or in no trace when there is none (work
 * recovered after a restart): never in whatever context the caller happens to run in.
 */
export function withTraceContext<T>(kept: TraceContext | undefined, fn: () => T): T {
  return context.with(kept ?? ROOT_CONTEXT, fn);
}

/**
 * Writes `traceparent` (and `tracestate`) for the span's context into record headers, in W3C Trace Context's
 * format, straight from the span's context: no context object and no pass through the global propagator (whose
 * baggage half has nothing to write, as the service sets no baggage).
 */
export function injectTraceHeaders(span: Span, headers: Record<string, string | Buffer | undefined>): void {
  if (!span.isRecording()) return;
  const c = span.spanContext();
  headers[TRACEPARENT_HEADER] = `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const state = c.traceState?.serialize();
  if (state) headers[TRACESTATE_HEADER] = state;
}

/** The trace context a record's producer wrote in its headers (the root context when it wrote none). */
export function extractTraceContext(headers: Record<string, HeaderValue> | undefined): Context {
  if (!headers || headers[TRACEPARENT_HEADER] === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, kafkaHeaderGetter);
}

/** Messaging attributes of a Kafka record (OTel semantic conventions), its key with numbers redacted. */
export function kafkaAttributes(r: {
  topic: string;
  operation: 'send' | 'process';
  partition?: number;
  offset?: string;
  key?: string | Buffer | null;
  messageId?: string;
}): Attributes {
  const a: Attributes = {
    'messaging.system': 'kafka',
    'messaging.destination.name': r.topic,
    'messaging.operation.type': r.operation,
    'messaging.operation.name': r.operation,
  };
  if (r.partition !== undefined) a['messaging.destination.partition.id'] = String(r.partition);
  if (r.offset !== undefined) a['messaging.kafka.offset'] = Number(r.offset);
  if (r.key !== undefined && r.key !== null) a['messaging.kafka.message.key'] = redactPhonesInText(r.key.toString());
  if (r.messageId !== undefined) a['messaging.message.id'] = r.messageId;
  return a;
}

/** Records where Kafka put a produced record on its producer span. */
export function setKafkaLanding(span: Span, landed: { partition: number; offset: string }): void {
  if (!span.isRecording()) return;
  span.setAttribute('messaging.destination.partition.id', String(landed.partition));
  span.setAttribute('messaging.kafka.offset', Number(landed.offset));
}
