export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger';
export { redactPhone, redactBody, redactPhonesInText } from './redact';
