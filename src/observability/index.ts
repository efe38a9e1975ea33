export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger';
export { redactPhone, redactBody, redactPhonesInText } from './redact';
export { createMetrics, type Metrics } from './metrics';
export { fatalErrorLine, unhandledRejectionReporter } from './process-errors';
export {
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
  type Span,
} from './tracing';
