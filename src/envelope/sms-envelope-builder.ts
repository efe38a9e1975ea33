import { deterministicEventId, randomEventId } from './event-id';
import { compact, toInt } from './fields';
import { isTerminalStatus, STATUS_RANK } from './status';
import type { ConsentScope, DataOf, EventOf, EventType, InternalEventV2, MessageStatus } from './schema';
import { sealEnvelope } from './validate';
import { systemClock, type Clock } from '../common/clock';

export type TwilioParams = Readonly<Record<string, string | undefined>>;

const GEO_FIELDS = ['FromCity', 'FromState', 'FromZip', 'FromCountry', 'ToCity', 'ToState', 'ToZip', 'ToCountry'];

export interface ConversationMessageInput {
  accountSid: string;
  conversationSid: string;
  messageSid: string;
  index: number;
  author: string;
  body: string | null;
  media?: { url: string; contentType?: string }[];
  dateCreated?: Date;
  participantSid?: string;
  attributes?: string;
  messagingServiceSid?: string;
}

/**
 * Builds validated envelopes from Twilio inputs. Ids of events derived from
 * Twilio are deterministic (same webhook twice ⇒ same id); every envelope is
 * checked against the schema before it leaves, so a bad one never reaches Kafka.
 */
export class SmsEnvelopeBuilder {
  constructor(
    private readonly clock: Clock = systemClock,
    private readonly source = 'twilio',
  ) {}

  /** Inbound SMS/MMS webhook parameters → sms.inbound.received. */
  inboundFromWebhook(p: TwilioParams): EventOf<'sms.inbound.received'> {
    const numMedia = toInt(p.NumMedia) ?? 0;
    const media: { url: string; contentType?: string }[] = [];
    for (let i = 0; i < numMedia; i++) {
      const url = p[`MediaUrl${i}`];
      if (url) media.push(withOptional({ url }, 'contentType', p[`MediaContentType${i}`]));
    }
    const geo: Record<string, string> = {};
    for (const f of GEO_FIELDS) if (p[f]) geo[f] = p[f]!;
    const messageSid = p.MessageSid ?? p.SmsMessageSid ?? p.SmsSid ?? '';
    const optOut = p.OptOutType?.toUpperCase();
    const data = compact({
      channel: media.length > 0 ? 'mms' : 'sms',
      messageSid,
      from: p.From ?? '',
      to: p.To,
      body: p.Body ?? '',
      media,
      numSegments: toInt(p.NumSegments),
      messagingServiceSid: p.MessagingServiceSid || undefined,
      optOutType: optOut === 'STOP' || optOut === 'START' || optOut === 'HELP' ? optOut : undefined,
      geo: Object.keys(geo).length > 0 ? geo : undefined,
    });
    return this.build('sms.inbound.received', {
      id: deterministicEventId('sms.inbound.received', messageSid),
      accountSid: p.AccountSid ?? '',
      messagingServiceSid: p.MessagingServiceSid || undefined,
      subject: p.From ?? '',
      data: data as DataOf<'sms.inbound.received'>,
    });
  }

  /** Status callback parameters → sms.status.updated. `advances` comes from the caller's status tracker. */
  statusFromCallback(p: TwilioParams, advances = true): EventOf<'sms.status.updated'> {
    const messageSid = p.MessageSid ?? p.SmsSid ?? '';
    const status = (p.MessageStatus ?? p.SmsStatus ?? '') as MessageStatus;
    const rank = STATUS_RANK[status] ?? 0;
    const data = compact({
      messageSid,
      status,
      rank,
      terminal: status in STATUS_RANK ? isTerminalStatus(status) : false,
      advances,
      errorCode: toInt(p.ErrorCode),
      from: p.From,
      to: p.To,
      messagingServiceSid: p.MessagingServiceSid || undefined,
      rawDlrDoneDate: p.RawDlrDoneDate,
    });
    return this.build('sms.status.updated', {
      id: deterministicEventId('sms.status.updated', messageSid, status, p.ErrorCode ?? ''),
      accountSid: p.AccountSid ?? '',
      messagingServiceSid: p.MessagingServiceSid || undefined,
      subject: messageSid,
      data: data as DataOf<'sms.status.updated'>,
    });
  }

  /** A consent change (keyword, OptOutType, error 21610 or API) → sms.consent.changed. */
  consentChanged(input: {
    accountSid: string;
    action: DataOf<'sms.consent.changed'>['action'];
    phoneNumber: string;
    scope: ConsentScope;
    via: DataOf<'sms.consent.changed'>['via'];
    keyword?: string;
    messageSid?: string;
    /** An operator's reason (`via: api`). */
    reason?: string;
    /** What caused it (an inbound event id or an egress request id). */
    causationId?: string;
    correlationId?: string;
  }): EventOf<'sms.consent.changed'> {
    const idParts = input.messageSid
      ? ['sms.consent.changed', input.messageSid, input.action]
      : ['sms.consent.changed', input.causationId ?? randomEventId(), input.phoneNumber, input.action];
    return this.build('sms.consent.changed', {
      id: deterministicEventId(...idParts),
      accountSid: input.accountSid,
      messagingServiceSid: input.scope.kind === 'messaging_service' ? input.scope.messagingServiceSid : undefined,
      subject: input.phoneNumber,
      causationId: input.causationId,
      correlationId: input.correlationId,
      data: compact({
        action: input.action,
        phoneNumber: input.phoneNumber,
        scope: input.scope,
        via: input.via,
        keyword: input.keyword,
        messageSid: input.messageSid,
        reason: input.reason,
      }) as DataOf<'sms.consent.changed'>,
    });
  }

  /** A message added to a Conversation (SDK event or post-event webhook) → sms.inbound.received. */
  inboundFromConversation(m: ConversationMessageInput): EventOf<'sms.inbound.received'> {
    const media = m.media ?? [];
    return this.build('sms.inbound.received', {
      id: deterministicEventId('sms.inbound.received', m.conversationSid, m.messageSid),
      accountSid: m.accountSid,
      messagingServiceSid: m.messagingServiceSid,
      subject: m.conversationSid,
      occurredAt: m.dateCreated,
      data: compact({
        channel: 'conversations',
        messageSid: m.messageSid,
        from: m.author,
        body: m.body ?? '',
        media,
        conversationSid: m.conversationSid,
        conversationIndex: m.index,
        participantSid: m.participantSid,
        attributes: m.attributes,
        messagingServiceSid: m.messagingServiceSid,
      }) as DataOf<'sms.inbound.received'>,
    });
  }

  /** An outcome of an egress request: correlation and causation link back to the request. */
  outcome<
    T extends
      | 'sms.outbound.accepted'
      | 'sms.outbound.rejected'
      | 'sms.outbound.failed'
      | 'sms.outbound.canceled'
      | 'sms.outbound.summary',
  >(request: InternalEventV2, type: T, data: DataOf<T>, discriminator = ''): EventOf<T> {
    return this.build(type, {
      id: deterministicEventId(type, request.id, discriminator),
      accountSid: request.tenant.accountSid,
      messagingServiceSid: request.tenant.messagingServiceSid,
      subject: request.subject,
      correlationId: request.correlationId ?? request.id,
      causationId: request.id,
      source: request.source,
      data,
    });
  }

  /** Any envelope, validated. */
  build<T extends EventType>(
    type: T,
    f: {
      id?: string;
      accountSid: string;
      messagingServiceSid?: string | undefined;
      subject: string;
      data: DataOf<T>;
      occurredAt?: Date | undefined;
      correlationId?: string | undefined;
      causationId?: string | undefined;
      source?: string;
    },
  ): EventOf<T> {
    const now = new Date(this.clock.now()).toISOString();
    const raw = compact({
      specVersion: '2',
      id: f.id ?? randomEventId(),
      type,
      source: f.source ?? this.source,
      occurredAt: f.occurredAt?.toISOString() ?? now,
      ingestedAt: now,
      tenant: compact({ accountSid: f.accountSid, messagingServiceSid: f.messagingServiceSid }),
      subject: f.subject,
      correlationId: f.correlationId,
      causationId: f.causationId,
      data: f.data,
    });
    return sealEnvelope(raw) as EventOf<T>;
  }
}

function withOptional<T extends object, K extends string>(
  obj: T,
  key: K,
  value: string | undefined,
): T & Partial<Record<K, string>> {
  return value ? { ...obj, [key]: value } : obj;
}
