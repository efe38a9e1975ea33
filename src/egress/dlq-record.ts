/**
 * The DLQ record format (sms.egress.dlq). The value is the original record's
 * value: the request envelope as JSON when it decoded, else the raw bytes, so
 * a replay republishes exactly what failed. The cause travels in headers.
 * Reasons never carry a phone number or a body.
 */
export const DLQ_HEADERS = {
  code: 'dlq-reason-code',
  reason: 'dlq-reason',
  stage: 'dlq-stage',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  failedAt: 'dlq-failed-at',
  attempts: 'dlq-attempts',
  requestId: 'dlq-request-id',
  recipient: 'dlq-recipient',
  twilioErrorCode: 'dlq-twilio-error-code',
  /** `envelope` (value is the envelope as JSON) or `raw` (the original bytes, which did not decode). */
  format: 'dlq-format',
} as const;

export interface DlqCause {
  code: string;
  reason: string;
  /** The stage that gave up (decode for poison records). */
  stage: string;
  attempts?: number | undefined;
  twilioErrorCode?: number | undefined;
  recipient?: string | undefined;
}

export interface DlqSource {
  topic: string;
  partition: number;
  offset: string;
}

/** A DLQ record read back (listDlq). */
export interface DlqEntry {
  partition: number;
  offset: string;
  key: string | null;
  format: 'envelope' | 'raw';
  cause: DlqCause;
  source: DlqSource | undefined;
  failedAt: string | undefined;
  requestId: string | undefined;
  value: Buffer | null;
  /** The original record's headers (CloudEvents …), without the dlq-* ones. */
  originalHeaders: Record<string, string>;
}
