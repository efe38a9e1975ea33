import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Route actions of the incoming-call answer (`voice_calls_received_total{action}`). */
export const VOICE_ROUTE_ACTIONS = ['forward', 'voicemail', 'reject', 'busy'] as const;
/** Dial results that count as missed (`voice_calls_missed_total{reason}`). */
export const MISSED_DIAL_REASONS = ['no-answer', 'busy', 'failed', 'canceled'] as const;

/**
 * Voice ingress metrics: incoming calls and how they were answered, forwarded
 * calls answered or missed, call setup latency, recordings, and the outbox
 * that keeps call events until Kafka has them. Labels are bounded sets; no
 * number, CallSid or URL.
 */
export function voiceIngressMetrics(r: Registry[]) {
  const callsReceived = new Counter({
    name: 'voice_calls_received_total',
    help: 'Incoming calls answered with routing TwiML, by route action (forward, voicemail, reject, busy).',
    labelNames: ['action'] as const,
    registers: r,
  });
  const callsAnswered = new Counter({
    name: 'voice_calls_answered_total',
    help: 'Forwarded calls someone answered (<Dial> result completed/answered).',
    registers: r,
  });
  const callsMissed = new Counter({
    name: 'voice_calls_missed_total',
    help: 'Forwarded calls nobody answered, by DialCallStatus (no-answer, busy, failed, canceled).',
    labelNames: ['reason'] as const,
    registers: r,
  });
  const recordings = new Counter({
    name: 'voice_recordings_total',
    help: 'Recording status callbacks by status (completed, failed, absent).',
    labelNames: ['status'] as const,
    registers: r,
  });
  const outboxErrors = new Counter({
    name: 'voice_outbox_write_errors_total',
    help: 'Call events the outbox could not write to disk (the call was still answered; the event is lost).',
    registers: r,
  });
  // Present at 0 from the start, so rate() and increase() see the first ones.
  for (const action of VOICE_ROUTE_ACTIONS) callsReceived.inc({ action }, 0);
  for (const reason of MISSED_DIAL_REASONS) callsMissed.inc({ reason }, 0);
  for (const status of ['completed', 'failed', 'absent']) recordings.inc({ status }, 0);
  callsAnswered.inc(0);
  outboxErrors.inc(0);
  return {
    voiceCallsReceived: callsReceived,
    voiceCallsAnswered: callsAnswered,
    voiceCallsMissed: callsMissed,
    voiceCallSetup: new Histogram({
      name: 'voice_call_setup_seconds',
      help: 'Incoming-call webhook to routing TwiML answered (includes the outbox fsync, never a Kafka wait).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    }),
    voiceRecordings: recordings,
    voiceRecordingDuration: new Histogram({
      name: 'voice_recording_duration_seconds',
      help: 'Duration of completed recordings (voicemails and recorded forwarded calls).',
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers: r,
    }),
    voiceOutboxPending: new Gauge({
      name: 'voice_outbox_pending',
      help: 'Call events on disk in the outbox, not yet acknowledged by Kafka.',
      registers: r,
    }),
    voiceOutboxPublishFailures: new Counter({
      name: 'voice_outbox_publish_failures_total',
      help: 'Outbox publish rounds Kafka did not acknowledge (the events stay and are retried).',
      registers: r,
    }),
    voiceOutboxDelay: new Histogram({
      name: 'voice_outbox_delay_seconds',
      help: 'From a call event written to the outbox to Kafka acknowledging it.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 120, 600],
      registers: r,
    }),
    voiceOutboxWriteErrors: outboxErrors,
  };
}
