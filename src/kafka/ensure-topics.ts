import type { Admin, Kafka } from 'kafkajs';
import type { AppConfig, TopicNames } from '../config';
import { IngressEgressError } from '../errors';
import type { Logger } from '../observability';

/** A topic the service uses, with the variable that names it and the configs production needs. */
export interface TopicSpec {
  topic: string;
  env: string;
  configs: Readonly<Record<string, string>>;
}

const SEVEN_DAYS_MS = String(7 * 24 * 60 * 60 * 1000);

/**
 * Every topic the service reads or writes. `sms.consent` is the opt-out list's source of truth, so it is
 * compacted (the latest record per key wins, forever); the send ledger is compacted and also expires after
 * a week (an old request id is never sent again by then). The rest use the cluster's defaults.
 */
export function topicSpecs(topics: TopicNames, ledgerTopic?: string): TopicSpec[] {
  const specs: TopicSpec[] = [
    { topic: topics.inbound, env: 'KAFKA_TOPIC_INBOUND', configs: {} },
    { topic: topics.status, env: 'KAFKA_TOPIC_STATUS', configs: {} },
    { topic: topics.consent, env: 'KAFKA_TOPIC_CONSENT', configs: { 'cleanup.policy': 'compact' } },
    { topic: topics.egress, env: 'KAFKA_TOPIC_EGRESS', configs: {} },
    { topic: topics.egressUrgent, env: 'KAFKA_TOPIC_EGRESS_URGENT', configs: {} },
    { topic: topics.egressBulk, env: 'KAFKA_TOPIC_EGRESS_BULK', configs: {} },
    { topic: topics.outcomes, env: 'KAFKA_TOPIC_OUTCOMES', configs: {} },
    { topic: topics.egressDlq, env: 'KAFKA_TOPIC_EGRESS_DLQ', configs: {} },
    { topic: topics.voiceCalls, env: 'KAFKA_TOPIC_VOICE_CALLS', configs: {} },
    { topic: topics.voiceRecordings, env: 'KAFKA_TOPIC_VOICE_RECORDINGS', configs: {} },
  ];
  if (ledgerTopic) {
    specs.push({
      topic: ledgerTopic,
      env: 'KAFKA_TOPIC_EGRESS_LEDGER',
      configs: { 'cleanup.policy': 'compact,delete', 'retention.ms': SEVEN_DAYS_MS },
    });
  }
  return specs;
}

export interface EnsureTopicsOptions {
  /** Create what is missing with `partitions` partitions; undefined: a missing topic is an error. */
  create?: { partitions: number } | undefined;
}

/**
 * Checks that every topic exists before the service starts, and creates the missing ones only when told to.
 * It lists topics instead of asking for their metadata: on a cluster with auto-creation on, a metadata
 * request would create a missing topic silently, with the broker's defaults (an uncompacted consent topic).
 * Returns the topics it created.
 */
export async function ensureTopics(
  admin: Admin,
  specs: TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = dedupe(specs.filter((s) => !existing.has(s.topic)));
  if (missing.length === 0) return [];
  if (!options.create) {
    const names = missing.map((s) => `${s.topic} (${s.env})`).join(', ');
    throw new IngressEgressError(
      'IE_KAFKA_TOPIC_MISSING',
      `Kafka topic${missing.length > 1 ? 's' : ''} missing: ${names}; create ${missing.length > 1 ? 'them' : 'it'} (docs/kafka.md) or set KAFKA_CREATE_TOPICS=true`,
      { details: { missing: missing.map((s) => ({ topic: s.topic, env: s.env })) } },
    );
  }
  const { partitions } = options.create;
  await admin.createTopics({
    waitForLeaders: false,
    topics: missing.map((s) => ({
      topic: s.topic,
      numPartitions: partitions,
      configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
    })),
  });
  await waitForTopics(
    admin,
    missing.map((s) => s.topic),
  );
  return missing.map((s) => s.topic);
}

/**
 * Waits until every partition of the topics has a leader that answers. kafkajs' own `waitForLeaders`
 * retries only LEADER_NOT_AVAILABLE, but a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION and then
 * NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics while the new topic reaches it, so any error is
 * retried until the deadline.
 */
export async function waitForTopics(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        // The leaders also answer: a broker named leader in the metadata may not have taken the partition yet
        // (NOT_LEADER_OR_FOLLOWER from ListOffsets for a moment after creation).
        for (const t of topics) await admin.fetchTopicOffsets(t);
        return;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) {
      throw new IngressEgressError('IE_KAFKA_UNAVAILABLE', `created topics have no leader after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

function dedupe(specs: TopicSpec[]): TopicSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => !seen.has(s.topic) && seen.add(s.topic));
}

/**
 * The start-up check of the service: one short-lived admin connection that ensures the topics of `config`
 * (and the send ledger's when egress runs) exist, creating them when KAFKA_CREATE_TOPICS is on.
 */
export async function ensureServiceTopics(
  kafka: Kafka,
  config: AppConfig,
  logger: Logger,
  withLedger: boolean,
): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const specs = topicSpecs(config.kafka.topics, withLedger ? config.egress.ledgerTopic : undefined);
    const created = await ensureTopics(admin, specs, { create: config.kafka.createTopics });
    if (created.length > 0) logger.info({ topics: created }, 'created missing Kafka topics (KAFKA_CREATE_TOPICS)');
  } catch (err) {
    if (err instanceof IngressEgressError) throw err;
    throw new IngressEgressError(
      'IE_KAFKA_UNAVAILABLE',
      `could not check the Kafka topics: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
