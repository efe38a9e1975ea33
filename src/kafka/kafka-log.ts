import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../observability';

type PinoMethod = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Readonly<Record<number, PinoMethod>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs messages we expect and handle, logged at debug so they do not read
 * as problems. The publisher limits retries of the idempotent producer on
 * purpose and renews the producer id after a failed batch, which is what
 * keeps exactly-once-per-partition ordering intact.
 */
const EXPECTED = [/^Limiting retries for the idempotent producer/];

/** The kafkajs level that lets through what the pino logger would print (so kafkajs does not format dropped lines). */
export function kafkaLogLevel(logger: Logger): logLevel {
  switch (logger.level) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'debug':
    case 'trace':
      return logLevel.DEBUG;
    default:
      return logLevel.INFO;
  }
}

/** Routes kafkajs logs to pino (and thus through its redaction), tagged with the kafkajs namespace. */
export function kafkaLogCreator(logger: Logger): logCreator {
  const log = logger.child({ part: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }) => {
      // kafkajs's own timestamp and logger name duplicate pino's fields.
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry;
      const method = EXPECTED.some((re) => re.test(message)) ? 'debug' : (LEVELS[level] ?? 'info');
      log[method]({ kafka: namespace, ...extra }, message);
    };
}
