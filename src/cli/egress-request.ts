import { SmsEnvelopeBuilder, type EgressPriority, type EventOf } from '../envelope';

export interface EgressRequestInput {
  accountSid: string;
  to: string;
  body?: string;
  from?: string;
  messagingServiceSid?: string;
  template?: { name: string; variables: Record<string, string> };
  mediaUrls?: string[];
  sendAt?: string;
  correlationId?: string;
  source?: string;
  priority?: EgressPriority;
}

/** An `sms.outbound.requested` envelope for the egress topic (used by `send` and the sandbox). */
export function buildEgressRequest(
  input: EgressRequestInput,
  builder = new SmsEnvelopeBuilder(),
): EventOf<'sms.outbound.requested'> {
  const data: EventOf<'sms.outbound.requested'>['data'] = { to: input.to };
  if (input.body !== undefined) data.body = input.body;
  if (input.from !== undefined) data.from = input.from;
  if (input.messagingServiceSid !== undefined) data.messagingServiceSid = input.messagingServiceSid;
  if (input.template !== undefined) data.template = input.template;
  if (input.mediaUrls !== undefined && input.mediaUrls.length > 0) data.mediaUrls = input.mediaUrls;
  if (input.sendAt !== undefined) data.sendAt = input.sendAt;
  if (input.priority !== undefined) data.priority = input.priority;
  return builder.build('sms.outbound.requested', {
    accountSid: input.accountSid,
    messagingServiceSid: input.messagingServiceSid,
    subject: input.to,
    correlationId: input.correlationId,
    source: input.source ?? 'twilio',
    data,
  });
}
