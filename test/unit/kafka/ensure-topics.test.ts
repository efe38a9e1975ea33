import type { Admin } from 'kafkajs';
import { ensureTopics, topicSpecs } from '../../../src/kafka/ensure-topics';

const TOPICS = {
  inbound: 'sms.inbound',
  status: 'sms.status',
  consent: 'sms.consent',
  egress: 'sms.egress',
  egressUrgent: 'sms.egress.urgent',
  egressBulk: 'sms.egress.bulk',
  outcomes: 'sms.outcomes',
  egressDlq: 'sms.egress.dlq',
  voiceCalls: 'voice.calls',
  voiceRecordings: 'voice.recordings',
};

/** An admin that knows some topics and records what it was asked to create. */
function fakeAdmin(existing: string[]) {
  const created: Parameters<Admin['createTopics']>[0][] = [];
  const admin = {
    listTopics: () => Promise.resolve([...existing]),
    createTopics: (req: Parameters<Admin['createTopics']>[0]) => {
      created.push(req);
      for (const t of req.topics) existing.push(t.topic);
      return Promise.resolve(true);
    },
    fetchTopicOffsets: () => Promise.resolve([{ partition: 0, offset: '0', high: '0', low: '0' }]),
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve({
        topics: topics.map((name) => ({
          name,
          partitions: existing.includes(name) ? [{ partitionId: 0, leader: 1 }] : [],
        })),
      }),
  } as unknown as Admin;
  return { admin, created };
}

describe('topicSpecs', () => {
  it('lists every topic with its variable, compacts the consent topic and the ledger (which also expires)', () => {
    const specs = topicSpecs(TOPICS, 'sms.egress.ledger');
    expect(specs.map((s) => s.env)).toEqual([
      'KAFKA_TOPIC_INBOUND',
      'KAFKA_TOPIC_STATUS',
      'KAFKA_TOPIC_CONSENT',
      'KAFKA_TOPIC_EGRESS',
      'KAFKA_TOPIC_EGRESS_URGENT',
      'KAFKA_TOPIC_EGRESS_BULK',
      'KAFKA_TOPIC_OUTCOMES',
      'KAFKA_TOPIC_EGRESS_DLQ',
      'KAFKA_TOPIC_VOICE_CALLS',
      'KAFKA_TOPIC_VOICE_RECORDINGS',
      'KAFKA_TOPIC_EGRESS_LEDGER',
    ]);
    expect(specs.find((s) => s.topic === 'sms.consent')!.configs).toEqual({ 'cleanup.policy': 'compact' });
    expect(specs.find((s) => s.topic === 'sms.egress.ledger')!.configs).toEqual({
      'cleanup.policy': 'compact,delete',
      'retention.ms': '604800000',
    });
    expect(specs.find((s) => s.topic === 'sms.inbound')!.configs).toEqual({});
    expect(specs.find((s) => s.topic === 'voice.calls')!.configs).toEqual({});
    expect(topicSpecs(TOPICS)).toHaveLength(10);
  });
});

describe('ensureTopics', () => {
  it('does nothing when every topic exists', async () => {
    const { admin, created } = fakeAdmin([...Object.values(TOPICS), 'sms.egress.ledger', 'other']);
    await expect(ensureTopics(admin, topicSpecs(TOPICS, 'sms.egress.ledger'))).resolves.toEqual([]);
    expect(created).toEqual([]);
  });

  it('refuses, naming each missing topic and its variable, when creation is off', async () => {
    const { admin, created } = fakeAdmin([
      'sms.inbound',
      'sms.status',
      'sms.egress',
      'sms.egress.urgent',
      'sms.egress.bulk',
      'sms.outcomes',
      'sms.egress.dlq',
      'voice.calls',
      'voice.recordings',
    ]);
    const err = await ensureTopics(admin, topicSpecs(TOPICS, 'sms.egress.ledger')).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'IE_KAFKA_TOPIC_MISSING',
      retriable: false,
      details: {
        missing: [
          { topic: 'sms.consent', env: 'KAFKA_TOPIC_CONSENT' },
          { topic: 'sms.egress.ledger', env: 'KAFKA_TOPIC_EGRESS_LEDGER' },
        ],
      },
    });
    expect((err as Error).message).toBe(
      'Kafka topics missing: sms.consent (KAFKA_TOPIC_CONSENT), sms.egress.ledger (KAFKA_TOPIC_EGRESS_LEDGER); create them (docs/kafka.md) or set KAFKA_CREATE_TOPICS=true',
    );
    expect(created).toEqual([]);
  });

  it('creates only the missing topics, with their configs, when told to; one topic named twice is created once', async () => {
    const { admin, created } = fakeAdmin(['sms.inbound']);
    const specs = topicSpecs({
      ...TOPICS,
      status: 'sms.inbound',
      egressUrgent: 'sms.inbound',
      egressBulk: 'shared',
      outcomes: 'shared',
      egressDlq: 'shared',
      voiceCalls: 'sms.inbound',
      voiceRecordings: 'shared',
    });
    const made = await ensureTopics(admin, specs, { create: { partitions: 12 } });
    expect(made).toEqual(['sms.consent', 'sms.egress', 'shared']);
    expect(created).toEqual([
      {
        waitForLeaders: false,
        topics: [
          { topic: 'sms.consent', numPartitions: 12, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
          { topic: 'sms.egress', numPartitions: 12, configEntries: [] },
          { topic: 'shared', numPartitions: 12, configEntries: [] },
        ],
      },
    ]);
  });
});
