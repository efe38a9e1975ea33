import type { TopicNames } from '../../../src/config';
import { EVENT_TYPES, type EgressPriority, type InternalEventV2 } from '../../../src/envelope';
import { keyFor, topicFor } from '../../../src/kafka/topics';
import { callSid, CUSTOMER, sampleEnvelopes } from '../../helpers/envelopes';

const topics: TopicNames = {
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

describe('voice topics and keys', () => {
  const samples = sampleEnvelopes();

  it.each([
    ['voice.call.received', 'voice.calls'],
    ['voice.call.status', 'voice.calls'],
    ['voice.dial.completed', 'voice.calls'],
    ['voice.recording.completed', 'voice.recordings'],
    ['voice.recording.failed', 'voice.recordings'],
    ['voice.transcription.completed', 'voice.recordings'],
    ['voice.call.requested', 'sms.egress'],
    ['voice.call.end_requested', 'sms.egress'],
    ['voice.call.accepted', 'sms.outcomes'],
    ['voice.call.rejected', 'sms.outcomes'],
    ['voice.call.failed', 'sms.outcomes'],
  ] as const)('%s goes to %s', (type, topic) => {
    expect(topicFor(samples[type], topics)).toBe(topic);
  });

  it('keys every voice ingress event by its CallSid and a call request by its callee', () => {
    for (const type of EVENT_TYPES.filter((t) => t.startsWith('voice.') && !t.startsWith('voice.call.re'))) {
      if (['voice.call.accepted', 'voice.call.failed', 'voice.call.end_requested'].includes(type)) continue;
      expect(keyFor(samples[type])).toBe(callSid(1));
    }
    expect(keyFor(samples['voice.call.requested'])).toBe(CUSTOMER);
    expect(keyFor(samples['voice.call.accepted'])).toBe(CUSTOMER);
  });
});

describe('egress lanes', () => {
  const samples = sampleEnvelopes();
  const request = samples['sms.outbound.requested'];
  const cancel = samples['sms.outbound.cancel_requested'];
  const withPriority = <T extends InternalEventV2>(e: T, priority: EgressPriority): T =>
    ({ ...e, data: { ...e.data, priority } }) as T;

  it('sends a request and a cancel to the topic of their priority, normal when they name none', () => {
    expect(topicFor(request, topics)).toBe('sms.egress');
    expect(topicFor(withPriority(request, 'normal'), topics)).toBe('sms.egress');
    expect(topicFor(withPriority(request, 'urgent'), topics)).toBe('sms.egress.urgent');
    expect(topicFor(withPriority(request, 'bulk'), topics)).toBe('sms.egress.bulk');
    expect(topicFor(cancel, topics)).toBe('sms.egress');
    expect(topicFor(withPriority(cancel, 'urgent'), topics)).toBe('sms.egress.urgent');
    expect(topicFor(withPriority(cancel, 'bulk'), topics)).toBe('sms.egress.bulk');
  });

  it('keys a request the same in every lane', () => {
    expect(keyFor(withPriority(request, 'urgent'))).toBe(keyFor(request));
  });
});
