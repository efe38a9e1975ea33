import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { listDlq, replayDlq, type DlqEntry } from '../../egress';
import { createEventPublisher } from '../../kafka/create-event-publisher';
import { createKafka } from '../../kafka/create-kafka';
import { createLogger } from '../../observability';
import { API_OPTIONS_HELP, ApiClient } from '../api-client';
import { loadEnv } from '../env-file';
import { CliError, type CliIo } from '../io';

export const DLQ_HELP = `Usage: ingress-egress dlq list [--code CODE] [--request ID] [--limit N] [--json]
       ingress-egress dlq replay [--code CODE] [--request ID] [--limit N] [--dry-run]

list    prints the records of the egress DLQ (KAFKA_TOPIC_EGRESS_DLQ) with their cause
replay  re-publishes them to the egress topic (the request keeps its id, so the
        send ledger still prevents a second SMS); --dry-run only shows what it would do.
The DLQ itself is never modified. Options: --env-file PATH,
${API_OPTIONS_HELP}
With --api both go through a running service (GET /api/dlq, POST /api/dlq/replay; admin scope).`;

export async function dlqCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(`${DLQ_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'list' && sub !== 'replay') throw new CliError(`unknown dlq command '${sub}' (list or replay)`, 2);
  const { values } = parseArgs({
    args: rest,
    options: {
      code: { type: 'string' },
      request: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'env-file': { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(`${DLQ_HELP}\n`);
    return 0;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new CliError('--limit must be a positive whole number', 2);
  if (values.api !== undefined) {
    return viaApi(io, ApiClient.from(io, values.api, values.token), sub, {
      code: values.code,
      requestId: values.request,
      limit,
      json: values.json ?? false,
      dryRun: values['dry-run'] ?? false,
    });
  }
  const config = loadConfig({ ...loadEnv(io, values['env-file']), TWILIO_ENABLED: 'false' });
  const logger = createLogger({ level: 'warn' });
  const kafka = createKafka(config.kafka, logger);
  const filter = {
    ...(values.code !== undefined ? { code: values.code } : {}),
    ...(values.request !== undefined ? { requestId: values.request } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
  const topic = config.kafka.topics.egressDlq;
  if (sub === 'list') {
    const entries = await listDlq({ kafka, topic, filter });
    if (values.json) io.stdout.write(`${JSON.stringify(entries.map(summary), null, 2)}\n`);
    else {
      io.stdout.write(`${entries.length} record(s) in ${topic}\n`);
      for (const e of entries) io.stdout.write(`${line(e)}\n`);
    }
    return 0;
  }
  const publisher = createEventPublisher(config, { logger, kafka });
  const dryRun = values['dry-run'] ?? false;
  if (!dryRun) await publisher.start();
  try {
    const result = await replayDlq({
      kafka,
      topic,
      filter,
      publisher,
      egressTopic: config.kafka.topics.egress,
      dryRun,
    });
    const verb = dryRun ? 'would replay' : 'replayed';
    io.stdout.write(`${verb} ${result.replayed.length} record(s) to ${config.kafka.topics.egress}\n`);
    for (const e of result.replayed) io.stdout.write(`  ${line(e)}\n`);
    for (const s of result.skipped) io.stdout.write(`  skipped ${s.entry.partition}/${s.entry.offset}: ${s.reason}\n`);
    return result.skipped.length > 0 ? 1 : 0;
  } finally {
    if (!dryRun) await publisher.stop();
  }
}

type EntryJson = Pick<DlqEntry, 'partition' | 'offset' | 'format' | 'cause'> & {
  requestId?: string;
  failedAt?: string;
};

/** `dlq list|replay` through GET /api/dlq and POST /api/dlq/replay, printed as the Kafka path prints them. */
async function viaApi(
  io: CliIo,
  client: ApiClient,
  sub: 'list' | 'replay',
  o: {
    code: string | undefined;
    requestId: string | undefined;
    limit: number | undefined;
    json: boolean;
    dryRun: boolean;
  },
): Promise<number> {
  const filter = {
    ...(o.code !== undefined ? { code: o.code } : {}),
    ...(o.requestId !== undefined ? { requestId: o.requestId } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  };
  if (sub === 'list') {
    const { body } = await client.call<{ topic: string; entries: EntryJson[] }>('GET', '/api/dlq', {
      query: { code: o.code, requestId: o.requestId, limit: o.limit === undefined ? undefined : String(o.limit) },
    });
    if (o.json) io.stdout.write(`${JSON.stringify(body.entries, null, 2)}\n`);
    else {
      io.stdout.write(`${body.entries.length} record(s) in ${body.topic}\n`);
      for (const e of body.entries) io.stdout.write(`${line(e)}\n`);
    }
    return 0;
  }
  const { body } = await client.call<{
    dryRun: boolean;
    replayed: EntryJson[];
    skipped: { entry: EntryJson; reason: string }[];
  }>('POST', '/api/dlq/replay', { body: { ...filter, dryRun: o.dryRun } });
  io.stdout.write(`${o.dryRun ? 'would replay' : 'replayed'} ${body.replayed.length} record(s) to the egress topic\n`);
  for (const e of body.replayed) io.stdout.write(`  ${line(e)}\n`);
  for (const s of body.skipped) io.stdout.write(`  skipped ${s.entry.partition}/${s.entry.offset}: ${s.reason}\n`);
  return body.skipped.length > 0 ? 1 : 0;
}

function summary(e: DlqEntry) {
  return {
    partition: e.partition,
    offset: e.offset,
    requestId: e.requestId,
    failedAt: e.failedAt,
    format: e.format,
    cause: e.cause,
  };
}

function line(
  e: Pick<DlqEntry, 'partition' | 'offset' | 'cause'> & {
    failedAt?: string | undefined;
    requestId?: string | undefined;
  },
): string {
  const twilio = e.cause.twilioErrorCode !== undefined ? ` twilio=${e.cause.twilioErrorCode}` : '';
  return `${e.partition}/${e.offset} ${e.failedAt ?? ''} request=${e.requestId ?? '-'} ${e.cause.code}${twilio} at ${e.cause.stage}: ${e.cause.reason}`;
}
