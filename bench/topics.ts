import type { TopicNames } from '../src/config';

/** A fresh set of topic names for one benchmark round, so rounds never read or count each other's records. */
export function benchTopics(prefix: string): TopicNames {
  const t = (role: string) => `bench-${prefix}-${role}-${Date.now().toString(36)}`;
  return {
    inbound: t('inbound'),
    status: t('status'),
    consent: t('consent'),
    egress: t('egress'),
    egressUrgent: t('egress-urgent'),
    egressBulk: t('egress-bulk'),
    outcomes: t('outcomes'),
    egressDlq: t('dlq'),
    voiceCalls: t('voice-calls'),
    voiceRecordings: t('voice-recordings'),
  };
}
