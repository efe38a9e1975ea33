export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger';
export { redactPhone, redactBody, redactPhonesInText } from './redact';
export { createMetrics, type Metrics } from './metrics';
export { fatalErrorLine, unhandledRejectionReporter } from './process-errors';
