import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { createLogger } from '../../../src/observability';
import { kafkaLogCreator, kafkaLogLevel } from '../../../src/kafka/kafka-log';

function memoryLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}

describe('kafkaLogCreator', () => {
  it('routes kafkajs entries to pino with the namespace, at the matching level, through redaction', async () => {
    const { logger, lines } = memoryLogger();
    const log = kafkaLogCreator(logger)(logLevel.INFO);
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'x', logger: 'kafkajs', message: 'Connection error', broker: 'b:9092', password: 'hunter2' },
    });
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      part: 'kafkajs',
      kafka: 'Connection',
      broker: 'b:9092',
      msg: 'Connection error',
    });
    expect(lines[0]!.password).toBe('[redacted]');
    expect(lines[0]).not.toHaveProperty('timestamp');
  });

  it('logs the expected idempotent-retries warning at debug', async () => {
    const { logger, lines } = memoryLogger();
    kafkaLogCreator(logger)(logLevel.INFO)({
      namespace: 'Producer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { timestamp: 'x', message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' },
    });
    await new Promise((r) => setImmediate(r));
    expect(lines[0]).toMatchObject({ level: 20 });
  });
});

describe('kafkaLogLevel', () => {
  it.each([
    ['silent', logLevel.NOTHING],
    ['error', logLevel.ERROR],
    ['warn', logLevel.WARN],
    ['info', logLevel.INFO],
    ['debug', logLevel.DEBUG],
  ])('%s → %s', (level, expected) => {
    expect(kafkaLogLevel(memoryLogger(level).logger)).toBe(expected);
  });
});
