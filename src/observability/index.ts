export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger';
export { redactPhone, redactBody, redactPhonesInText } from './redact';
export { createMetrics, type Metrics } from './metrics';
export { fatalErrorLine, unhandledRejectionReporter } from './process-errors';
export {
  activeTraceContext,
  extractTraceContext,
  failSpan,
  inSpan,
  inServerSpan,
  injectTraceHeaders,
  kafkaAttributes,
  setKafkaLanding,
  SpanKind,
  startSpan,
  traceIds,
  TRACEPARENT_HEADER,
  TRACER_NAME,
  TRACESTATE_HEADER,
  withTraceContext,
  type Span,
  type SpanOptions,
  type TraceContext,
} from './tracing';
