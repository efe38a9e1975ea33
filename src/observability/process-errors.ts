import type { DestinationStream } from 'pino';
import { createLogger } from './logger';
import { redactPhonesInText } from './redact';

/**
 * What src/main.ts reports about errors no part of the service handled: a
 * promise nobody awaited (a library's, e.g. the Conversations SDK's Sync
 * fetches: logged, the service keeps running) and the error that ends the
 * process. Both are redacted like every log line — numbers in messages and
 * stacks masked, secret and phone keys of a thrown object censored — so a
 * library error quoting a request never leaks a number or a token to stderr.
 */
export function unhandledRejectionReporter(destination: DestinationStream): (reason: unknown) => void {
  const logger = createLogger({ level: 'error', destination });
  return (reason) => {
    if (reason instanceof Error) {
      logger.error({ err: reason }, 'unhandled rejection (a promise nobody awaited); the service keeps running');
    } else {
      logger.error(
        { reason: typeof reason === 'string' ? redactPhonesInText(reason) : reason },
        'unhandled rejection (a promise nobody awaited); the service keeps running',
      );
    }
  };
}

/** The one line printed when the process ends on an error: its message, numbers masked. */
export function fatalErrorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `ingress-egress: ${redactPhonesInText(message).replace(/\s*\n\s*/g, ' ')}\n`;
}
