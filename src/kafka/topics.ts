import type { TopicNames } from '../config';
import { priorityOf, type EgressPriority, type EventType, type InternalEventV2 } from '../envelope';

/** Which topic each event type goes to (architecture.yaml `kafka.topics`). */
export const TOPIC_OF_TYPE: Readonly<Record<EventType, keyof TopicNames>> = {
  'sms.inbound.received': 'inbound',
  'sms.status.updated': 'status',
  'sms.consent.changed': 'consent',
  'sms.outbound.requested': 'egress',
  'sms.outbound.cancel_requested': 'egress',
  'sms.outbound.accepted': 'outcomes',
  'sms.outbound.rejected': 'outcomes',
  'sms.outbound.failed': 'outcomes',
  'sms.outbound.canceled': 'outcomes',
  'sms.outbound.summary': 'outcomes',
  'voice.call.received': 'voiceCalls',
  'voice.call.status': 'voiceCalls',
  'voice.dial.completed': 'voiceCalls',
  'voice.recording.completed': 'voiceRecordings',
  'voice.recording.failed': 'voiceRecordings',
  'voice.transcription.completed': 'voiceRecordings',
  // Voice requests share the egress topic (routed by source like SMS) and voice outcomes the outcomes topic:
  // one place to send requests and one to watch for their results (docs/voice.md).
  'voice.call.requested': 'egress',
  'voice.call.end_requested': 'egress',
  'voice.call.accepted': 'outcomes',
  'voice.call.rejected': 'outcomes',
  'voice.call.failed': 'outcomes',
};

/**
 * The egress lanes (docs/egress.md, "Priority lanes"): an SMS request or cancel goes to the topic of its
 * `priority`, each consumed by a consumer of its own so an urgent request never waits behind a queue of others.
 */
export const LANE_TOPIC: Readonly<Record<EgressPriority, keyof TopicNames>> = {
  urgent: 'egressUrgent',
  normal: 'egress',
  bulk: 'egressBulk',
};

/** The event types routed by priority (LANE_TOPIC) rather than by TOPIC_OF_TYPE alone. */
export const LANE_EVENT_TYPES: readonly EventType[] = ['sms.outbound.requested', 'sms.outbound.cancel_requested'];

export function topicFor(event: InternalEventV2, topics: TopicNames): string {
  if (event.type === 'sms.outbound.requested' || event.type === 'sms.outbound.cancel_requested') {
    return topics[LANE_TOPIC[priorityOf(event.data)]];
  }
  return topics[TOPIC_OF_TYPE[event.type]];
}

/** Key of the consent topic (compacted): one record per sender scope and number, the latest wins. */
export function consentKey(event: Extract<InternalEventV2, { type: 'sms.consent.changed' }>): string {
  const s = event.data.scope;
  const scope =
    s.kind === 'sender'
      ? `sender:${s.sender}`
      : s.kind === 'messaging_service'
        ? `ms:${s.messagingServiceSid}`
        : s.kind;
  return `${event.tenant.accountSid}|${scope}|${event.data.phoneNumber}`;
}

/**
 * The partition key: the customer's number so one customer's events stay in
 * order; the MessageSid for status callbacks; the consent scope + number on the
 * compacted consent topic; the CallSid for every voice ingress event (a call's
 * events stay in order); the callee for a call request.
 */
export function keyFor(event: InternalEventV2): string {
  switch (event.type) {
    case 'sms.inbound.received':
      return event.data.conversationSid ?? event.data.from;
    case 'sms.status.updated':
      return event.data.messageSid;
    case 'sms.consent.changed':
      return consentKey(event);
    case 'sms.outbound.requested':
      return event.data.conversationSid ?? event.data.to ?? event.subject;
    case 'voice.call.received':
    case 'voice.call.status':
    case 'voice.dial.completed':
    case 'voice.recording.completed':
    case 'voice.recording.failed':
    case 'voice.transcription.completed':
      return event.data.callSid;
    case 'voice.call.requested':
      return event.data.to;
    default:
      return event.subject;
  }
}
