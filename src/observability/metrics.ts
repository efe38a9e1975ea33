import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { voiceIngressMetrics } from './voice-ingress-metrics';

/**
 * Where an authentication failure was seen (`twilio_auth_failures_total{source}`):
 * Twilio refused our credentials on an API call (401/403, code 20003), or a
 * webhook claiming to come from a Twilio account failed its signature
 * (`invalid`, `unknown_account`: a wrong auth token, a wrong public URL, or a
 * forgery).
 */
export const AUTH_FAILURE_SOURCES = ['twilio_api', 'webhook_signature'] as const;
export type AuthFailureSource = (typeof AUTH_FAILURE_SOURCES)[number];

/**
 * The `error_code` label value when there is no Twilio error code (an accepted
 * message, an HTTP or network failure without a code). Known Twilio codes are
 * their number; any other code is `other` (src/twilio/rest/error-code-label.ts),
 * so the label is bounded by the error map.
 */
export const NO_ERROR_CODE = 'none';
export const OTHER_ERROR_CODE = 'other';

/**
 * Every Prometheus metric the service exports, in one registry per server
 * instance (tests build many). Labels never carry a phone number, a body or a
 * secret: only bounded sets (status, type, error type, Twilio error code from
 * the error map, topic, route).
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const r = [registry];
  const authFailures = new Counter({
    name: 'twilio_auth_failures_total',
    help: 'Authentication failures: Twilio refused our credentials (twilio_api) or a webhook failed its signature as invalid or for an unknown account (webhook_signature).',
    labelNames: ['source'] as const,
    registers: r,
  });
  // Present at 0 from the start, so increase() sees the first failures (an alert fires on the first burst).
  for (const source of AUTH_FAILURE_SOURCES) authFailures.inc({ source }, 0);
  return {
    registry,
    // Egress (seed specification names)
    messagesSent: new Counter({
      name: 'twilio_messages_sent_total',
      help: 'Egress outcomes by status (accepted, rejected, failed, canceled) and Twilio error code (known codes, other, none).',
      labelNames: ['status', 'error_code'] as const,
      registers: r,
    }),
    messageSegments: new Histogram({
      name: 'sms_message_segments',
      help: 'Segments per message Twilio accepted (what Twilio bills), by encoding (GSM-7, UCS-2).',
      labelNames: ['encoding'] as const,
      buckets: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30],
      registers: r,
    }),
    // Voice egress: outbound calls and end-call requests (docs/voice.md).
    voiceOutboundCalls: new Counter({
      name: 'voice_outbound_calls_total',
      help: 'Outbound call requests by outcome (accepted, rejected, failed) and Twilio error code (known codes, other, none).',
      labelNames: ['outcome', 'error_code'] as const,
      registers: r,
    }),
    voicePlaceLatency: new Histogram({
      name: 'voice_call_place_latency_seconds',
      help: 'Twilio REST latency of one attempt to place an outbound call.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: r,
    }),
    voiceCallsEnded: new Counter({
      name: 'voice_calls_ended_total',
      help: 'End-call requests (Kafka voice.call.end_requested and POST /api/calls/{CallSid}/end) by outcome (ended, already_ended, rejected, failed).',
      labelNames: ['via', 'outcome'] as const,
      registers: r,
    }),
    sendLatency: new Histogram({
      name: 'twilio_send_latency_seconds',
      help: 'Twilio REST send latency per attempt.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: r,
    }),
    errors: new Counter({
      name: 'twilio_errors_total',
      help: 'Errors by type (from the Twilio error map or the service) and Twilio error code (known codes, other, none).',
      labelNames: ['error_type', 'error_code'] as const,
      registers: r,
    }),
    authFailures,
    rateLimitHits: new Counter({
      name: 'twilio_rate_limit_hits_total',
      help: 'Times a send waited for a rate-limit token, by bucket.',
      labelNames: ['bucket'] as const,
      registers: r,
    }),
    rateLimitShare: new Gauge({
      name: 'twilio_rate_limit_share',
      help: 'Fraction (0..1) of the account and sender rate limits this instance takes: its share of the egress topic partitions (1 before its first assignment). Summed over the instances of a group it is 1.',
      registers: r,
    }),
    circuitState: new Gauge({
      name: 'twilio_circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      registers: r,
    }),
    optOutEvents: new Counter({
      name: 'twilio_opt_out_events_total',
      help: 'Consent changes by action and cause.',
      labelNames: ['action', 'via'] as const,
      registers: r,
    }),
    optOutCacheSize: new Gauge({
      name: 'twilio_opt_out_cache_size',
      help: 'Numbers currently opted out in the consent store.',
      registers: r,
    }),
    // Ingress
    messagesReceived: new Counter({
      name: 'twilio_messages_received_total',
      help: 'Inbound events published, by type and channel.',
      labelNames: ['type', 'channel'] as const,
      registers: r,
    }),
    webhookLatency: new Histogram({
      name: 'twilio_webhook_latency_seconds',
      help: 'Webhook handling latency (receipt to answer), by route.',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    webhookRequests: new Counter({
      name: 'twilio_webhook_requests_total',
      help: 'Webhook answers by route and HTTP status code.',
      labelNames: ['route', 'code'] as const,
      registers: r,
    }),
    webhookTimeouts: new Counter({
      name: 'twilio_webhook_timeouts_total',
      help: 'Webhooks answered 503 because Kafka did not acknowledge within the answer deadline, by route.',
      labelNames: ['route'] as const,
      registers: r,
    }),
    signatureFailures: new Counter({
      name: 'twilio_webhook_signature_failures_total',
      help: 'Webhooks refused for a missing or invalid X-Twilio-Signature.',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    duplicatesSuppressed: new Counter({
      name: 'twilio_webhook_duplicates_total',
      help: 'Webhook deliveries recognised as repeats and not published again.',
      labelNames: ['route'] as const,
      registers: r,
    }),
    deliveryStatus: new Counter({
      name: 'twilio_delivery_status_total',
      help: 'Status callbacks by status and Twilio error code (known codes, other, none).',
      labelNames: ['status', 'error_code'] as const,
      registers: r,
    }),
    // Conversations
    conversationsState: new Gauge({
      name: 'twilio_conversations_connection_state',
      help: 'Conversations session: 1 for the current state.',
      labelNames: ['state'] as const,
      registers: r,
    }),
    conversationsReconnects: new Counter({
      name: 'twilio_conversations_reconnects_total',
      help: 'Conversations session reconnects.',
      registers: r,
    }),
    conversationsTokenRefreshes: new Counter({
      name: 'twilio_conversations_token_refreshes_total',
      help: 'Access token refreshes.',
      registers: r,
    }),
    // Kafka
    kafkaPublishLatency: new Histogram({
      name: 'kafka_publish_latency_seconds',
      help: 'Time from publish() to broker acknowledgement, by topic.',
      labelNames: ['topic'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: r,
    }),
    kafkaPublished: new Counter({
      name: 'kafka_records_published_total',
      help: 'Records acknowledged by Kafka, by topic.',
      labelNames: ['topic'] as const,
      registers: r,
    }),
    kafkaUnansweredResent: new Counter({
      name: 'kafka_records_unanswered_resent_total',
      help: 'Records sent again because Kafka answered a batch without them (a partition leader moved during its retries).',
      registers: r,
    }),
    kafkaPublishErrors: new Counter({
      name: 'kafka_publish_errors_total',
      help: 'Publish failures, by topic.',
      labelNames: ['topic'] as const,
      registers: r,
    }),
    kafkaConsumerLag: new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Egress consumer lag (high watermark - committed offset) by topic and partition.',
      labelNames: ['topic', 'partition'] as const,
      registers: r,
    }),
    egressUnrouted: new Counter({
      name: 'kafka_egress_unrouted_total',
      help: 'Egress records for a source no connector here handles (committed without an outcome), by source (bounded; other).',
      labelNames: ['source'] as const,
      registers: r,
    }),
    egressDetachedBatches: new Counter({
      name: 'kafka_egress_detached_batches_total',
      help: 'Egress batches still running after a second, left to finish in the background with their partition paused, by lane.',
      labelNames: ['lane'] as const,
      registers: r,
    }),
    egressConsumerRestarts: new Counter({
      name: 'kafka_egress_consumer_restarts_total',
      help: 'Times the service restarted the egress consumer after kafkajs stopped it for good (e.g. no broker reachable).',
      registers: r,
    }),
    ledgerEntries: new Gauge({
      name: 'egress_ledger_entries',
      help: 'Send-ledger entries held in memory (at most EGRESS_LEDGER_MAX_ENTRIES).',
      registers: r,
    }),
    ledgerWindow: new Gauge({
      name: 'egress_ledger_window_seconds',
      help: 'How far back the send ledger remembers every entry; older requests are checked against Twilio before sending.',
      registers: r,
    }),
    ledgerForgottenChecks: new Counter({
      name: 'egress_ledger_forgotten_checks_total',
      help: 'Requests older than the send ledger remembers, checked against Twilio (a list) before sending, by channel.',
      labelNames: ['channel'] as const,
      registers: r,
    }),
    dlqRecords: new Counter({
      name: 'kafka_dlq_records_total',
      help: 'Records written to the egress DLQ, by reason code.',
      labelNames: ['code'] as const,
      registers: r,
    }),
    ...voiceIngressMetrics(r),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
