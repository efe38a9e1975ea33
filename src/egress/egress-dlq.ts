import type { Kafka } from 'kafkajs';
import { DLQ_HEADERS, type DlqEntry } from './dlq-record';
import { parseEnvelope } from '../envelope';
import { headersToStrings } from '../kafka/cloud-events';
import type { EventPublisherPort } from '../connector/event-publisher-port';
import { fetchTopicRanges, readTopicRanges } from '../kafka/topic-ranges';

export interface DlqFilter {
  /** Only records with this reason code (dlq-reason-code). */
  code?: string;
  /** Only the records of this request id. */
  requestId?: string;
  /** At most this many entries (oldest first). */
  limit?: number;
}

export interface ListDlqOptions {
  kafka: Kafka;
  /** KAFKA_TOPIC_EGRESS_DLQ. */
  topic: string;
  filter?: DlqFilter;
  /** How long to wait for the records up to the high watermark. Default 30 s. */
  timeoutMs?: number;
}

/**
 * Reads the DLQ from the beginning up to its current end (a throw-away
 * consumer group, nothing committed) and returns its entries with their
 * causes, oldest first per partition.
 */
export async function listDlq(o: ListDlqOptions): Promise<DlqEntry[]> {
  const entries: DlqEntry[] = [];
  await readTopicRanges({
    kafka: o.kafka,
    topic: o.topic,
    ranges: await fetchTopicRanges(o.kafka, o.topic),
    groupIdPrefix: 'ingress-egress-dlq-reader',
    timeoutMs: o.timeoutMs ?? 30_000,
    onMessage: (partition, message) =>
      entries.push(toEntry(partition, message.offset, message.key, message.value, headersToStrings(message.headers))),
  });
  const f = o.filter ?? {};
  const matching = entries
    .filter(
      (e) =>
        (f.code === undefined || e.cause.code === f.code) && (f.requestId === undefined || e.requestId === f.requestId),
    )
    .sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  return f.limit === undefined ? matching : matching.slice(0, f.limit);
}

export interface ReplayDlqOptions extends ListDlqOptions {
  publisher: EventPublisherPort;
  /** Where raw (undecodable) records go back to: KAFKA_TOPIC_EGRESS. */
  egressTopic: string;
  /** List what would be replayed without publishing. */
  dryRun?: boolean;
}

export interface ReplayResult {
  /** Entries replayed (or, in a dry run, that would be). */
  replayed: DlqEntry[];
  /** Entries that cannot be replayed (an envelope that no longer validates), with why. */
  skipped: { entry: DlqEntry; reason: string }[];
}

/**
 * Re-publishes DLQ entries to the egress topic: envelopes through the
 * publisher (so the configured codec and keys apply), raw records as they
 * were. The request keeps its id, so the send ledger still prevents a second
 * SMS for anything that did go out; the DLQ itself is left as it is.
 */
export async function replayDlq(o: ReplayDlqOptions): Promise<ReplayResult> {
  const entries = await listDlq(o);
  const result: ReplayResult = { replayed: [], skipped: [] };
  for (const entry of entries) {
    if (entry.format === 'envelope') {
      let event;
      try {
        event = parseEnvelope(JSON.parse(entry.value?.toString('utf8') ?? 'null'));
      } catch (err) {
        result.skipped.push({ entry, reason: `not a valid envelope: ${(err as Error).message}` });
        continue;
      }
      if (event.type !== 'sms.outbound.requested' && event.type !== 'sms.outbound.cancel_requested') {
        result.skipped.push({ entry, reason: `${event.type} is not an egress request` });
        continue;
      }
      if (!o.dryRun) await o.publisher.publish(event);
    } else if (!o.dryRun) {
      await o.publisher.publishRaw({
        topic: o.egressTopic,
        key: entry.key,
        value: entry.value,
        headers: entry.originalHeaders,
      });
    }
    result.replayed.push(entry);
  }
  return result;
}

function toEntry(
  partition: number,
  offset: string,
  key: Buffer | null,
  value: Buffer | null,
  headers: Record<string, string>,
): DlqEntry {
  const dlqNames = new Set<string>(Object.values(DLQ_HEADERS));
  const originalHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!dlqNames.has(k)) originalHeaders[k] = v;
  const num = (v: string | undefined) =>
    v === undefined || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v);
  const sourceTopic = headers[DLQ_HEADERS.sourceTopic];
  return {
    partition,
    offset,
    key: key?.toString('utf8') ?? null,
    format: headers[DLQ_HEADERS.format] === 'raw' ? 'raw' : 'envelope',
    cause: {
      code: headers[DLQ_HEADERS.code] ?? 'UNKNOWN',
      reason: headers[DLQ_HEADERS.reason] ?? '',
      stage: headers[DLQ_HEADERS.stage] ?? 'unknown',
      attempts: num(headers[DLQ_HEADERS.attempts]),
      twilioErrorCode: num(headers[DLQ_HEADERS.twilioErrorCode]),
      recipient: headers[DLQ_HEADERS.recipient],
    },
    source:
      sourceTopic === undefined
        ? undefined
        : {
            topic: sourceTopic,
            partition: num(headers[DLQ_HEADERS.sourcePartition]) ?? -1,
            offset: headers[DLQ_HEADERS.sourceOffset] ?? '',
          },
    failedAt: headers[DLQ_HEADERS.failedAt],
    requestId: headers[DLQ_HEADERS.requestId],
    value,
    originalHeaders,
  };
}
