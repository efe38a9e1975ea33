import pino, { type DestinationStream, type Logger } from 'pino';
import { censor, redactPaths, redactPhonesInText } from './redact';
import { traceIds } from './tracing';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where lines go (tests pass a memory stream); stdout by default. */
  destination?: DestinationStream;
}

/**
 * The root logger. Parts take `logger.child({ part: 'kafka' })`. Secrets,
 * phone numbers and message bodies are redacted by key anywhere in the first
 * three levels of a log object, and E.164 numbers inside messages are masked.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'ingress-egress' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths(), censor },
      // trace_id/span_id of the active span (when tracing is on), so a log line leads to its trace. A new object
      // each time: pino merges the line's own fields into it.
      mixin: () => traceIds() ?? {},
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactPhonesInText(a) : a)) as Parameters<
            typeof method
          >;
          return method.apply(this, scrubbed);
        },
      },
      serializers: {
        err: (err: unknown) => {
          const s = pino.stdSerializers.err(err as Error);
          if (typeof s.message === 'string') s.message = redactPhonesInText(s.message);
          if (typeof s.stack === 'string') s.stack = redactPhonesInText(s.stack);
          return s;
        },
      },
    },
    options.destination,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
