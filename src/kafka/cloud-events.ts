import type { IHeaders } from 'kafkajs';
import type { InternalEventV2 } from '../envelope';

/**
 * CloudEvents Kafka protocol binding, binary mode: the envelope is the record
 * value, the event attributes are `ce_`-prefixed headers and the data content
 * type is the plain `content-type` header. correlationId and causationId are
 * extension attributes (lower-case alphanumeric names, as the spec requires).
 */
export interface CloudEventHeaders {
  // Assignable to kafkajs's IHeaders as is, so records need no copy.
  [name: string]: string | undefined;
  ce_specversion: '1.0';
  ce_id: string;
  ce_type: string;
  ce_source: string;
  ce_time: string;
  ce_subject: string;
  'content-type': string;
  ce_correlationid?: string;
  ce_causationid?: string;
}

export function cloudEventHeaders(event: InternalEventV2, contentType: string): CloudEventHeaders {
  const headers: CloudEventHeaders = {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_type: event.type,
    ce_source: event.source,
    ce_time: event.occurredAt,
    ce_subject: event.subject,
    'content-type': contentType,
  };
  if (event.correlationId !== undefined) headers.ce_correlationid = event.correlationId;
  if (event.causationId !== undefined) headers.ce_causationid = event.causationId;
  return headers;
}

/** Record headers as strings (kafkajs hands consumers Buffers); repeated headers keep the last value. */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}
