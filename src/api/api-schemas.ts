import { z } from 'zod';
import { AccountSid, ConsentScope, E164, MessageSid, OutboundRequestedData } from '../envelope';

/**
 * The request and answer bodies of /api, in zod. Send bodies take their
 * fields from the egress envelope's schema (`OutboundRequestedData`), so the
 * API accepts exactly what egress would; the OpenAPI document is generated
 * from these same schemas.
 */

const egress = OutboundRequestedData.shape;

/** What a send may say besides its recipients (the envelope's own fields and rules). */
const content = {
  from: egress.from.meta({ description: 'Sender number; default the messaging service, then TWILIO_PHONE_NUMBER' }),
  messagingServiceSid: egress.messagingServiceSid,
  body: egress.body.meta({ description: 'The text (or give a template)' }),
  template: egress.template.meta({ description: 'A template of EGRESS_TEMPLATES_FILE and its variables' }),
  mediaUrls: egress.mediaUrls.meta({ description: 'MMS media (https), at most 10' }),
  sendAt: egress.sendAt.meta({ description: 'Scheduled send (needs a messaging service)' }),
  validityPeriodSecs: egress.validityPeriodSecs,
  statusCallbackUrl: egress.statusCallbackUrl,
  smartEncoded: egress.smartEncoded,
  priority: egress.priority.meta({ description: '`urgent` (codes), `normal` (default) or `bulk` (campaigns)' }),
  accountSid: AccountSid.optional().meta({ description: 'Tenant account; default TWILIO_ACCOUNT_SID' }),
  correlationId: z.string().min(1).max(200).optional().meta({ description: 'Carried to every outcome' }),
};

const needsText = (
  v: { body?: unknown; template?: unknown; mediaUrls?: unknown[] | undefined },
  ctx: z.RefinementCtx,
) => {
  if (v.body === undefined && v.template === undefined && !(v.mediaUrls && v.mediaUrls.length > 0)) {
    ctx.addIssue({ code: 'custom', path: ['body'], message: 'give body, template or mediaUrls' });
  }
};

export const SendSmsBody = z
  .strictObject({ to: z.string().min(1).meta({ description: 'Recipient (E.164 preferred)' }), ...content })
  .superRefine(needsText)
  .meta({ id: 'SendSms' });
export type SendSmsBody = z.output<typeof SendSmsBody>;

export const SendBulkBody = z
  .strictObject({ recipients: z.array(z.string().min(1)).min(1).max(10000), ...content })
  .superRefine(needsText)
  .meta({ id: 'SendBulk' });
export type SendBulkBody = z.output<typeof SendBulkBody>;

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Same key (per token) → same request id: a retry never becomes a second SMS' }),
});

export const WaitQuery = z.strictObject({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .optional()
    .meta({ description: 'Milliseconds (≤ 10000) to wait for the outcome on sms.outcomes' }),
});

export const RequestIdParams = z.object({
  requestId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._:-]+$/, 'must be a request id'),
});

export const MessageSidParams = z.object({ sid: MessageSid });

const date = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' });
export const ListMessagesQuery = z.strictObject({
  to: E164.optional(),
  from: z.string().min(1).optional(),
  dateSentAfter: date.optional(),
  dateSentBefore: date.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const ConsentParams = z.object({ number: E164 });
export const ConsentQuery = z.strictObject({ accountSid: AccountSid.optional() });

export const ConsentChangeBody = z
  .strictObject({
    action: z.enum(['opt_out', 'opt_in']),
    scope: ConsentScope.meta({ description: 'sender number, messaging service, the whole account, or voice' }),
    reason: z.string().min(1).max(500).meta({ description: 'Why (kept on the consent event)' }),
    accountSid: AccountSid.optional(),
  })
  .meta({ id: 'ConsentChange' });
export type ConsentChangeBody = z.output<typeof ConsentChangeBody>;

// Answers.

export const ErrorBody = z
  .object({ error: z.string(), message: z.string(), field: z.string().optional() })
  .meta({ id: 'Error' });

export const AcceptedBody = z.object({ requestId: z.string() }).meta({ id: 'Accepted' });

export const Outcome = z
  .object({
    type: z.enum(['accepted', 'rejected', 'failed', 'canceled', 'summary']),
    eventId: z.string(),
    occurredAt: z.string(),
    to: z.string().optional(),
    messageSid: z.string().optional(),
    status: z.string().optional(),
    code: z.string().optional(),
    reason: z.string().optional(),
    twilioErrorCode: z.number().optional(),
    deduplicated: z.boolean().optional(),
    total: z.number().optional(),
    accepted: z.number().optional(),
    rejected: z.number().optional(),
    failed: z.number().optional(),
  })
  .meta({ id: 'Outcome' });

export const OutcomeBody = z.object({ requestId: z.string(), outcome: Outcome }).meta({ id: 'RequestOutcome' });

export const RequestStateBody = z
  .object({
    requestId: z.string(),
    /** What this instance remembers publishing (it may have been published elsewhere). */
    published: z.boolean(),
    ledger: z.array(
      z.object({
        recipient: z.string(),
        state: z.enum(['intent', 'sent']),
        messageSid: z.string().optional(),
        status: z.string().optional(),
        attempts: z.number().optional(),
      }),
    ),
    outcomes: z.array(Outcome),
  })
  .meta({ id: 'RequestState' });

export const Message = z
  .object({
    sid: z.string(),
    accountSid: z.string(),
    to: z.string(),
    from: z.string().nullable(),
    body: z.string(),
    status: z.string(),
    direction: z.string(),
    numSegments: z.number(),
    numMedia: z.number(),
    messagingServiceSid: z.string().nullable(),
    errorCode: z.number().nullable(),
    dateCreated: z.string().nullable(),
    dateSent: z.string().nullable(),
  })
  .meta({ id: 'Message' });

export const MessageListBody = z.object({ messages: z.array(Message) });

export const ConsentStateBody = z
  .object({
    phoneNumber: z.string(),
    accountSid: z.string(),
    entries: z.array(z.object({ scope: ConsentScope, optedOut: z.boolean(), occurredAt: z.string().optional() })),
  })
  .meta({ id: 'ConsentState' });

export const ConsentChangedBody = z.object({ eventId: z.string() });
