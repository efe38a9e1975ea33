import type { PhoneNormalizer } from '../../sms/phone';
import type { SmsValidationResult, SmsValidator } from '../../sms/validate';
import type { OutboundMessage, OutboundRequest } from './delivery';
import type { OutboundValidator, ValidationResult } from './egress-deps';
import { OUTCOME_CODES } from '../../egress/egress-errors';

/** Renders a named template; a rejection carries the templates module's stable code. */
export interface TemplateRenderer {
  render(
    name: string,
    variables: Readonly<Record<string, string | number | boolean>>,
  ): { ok: true; body: string } | { ok: false; code: string; reason: string };
}

export interface SmsOutboundValidatorOptions {
  phones: PhoneNormalizer;
  sms: SmsValidator;
  templates?: TemplateRenderer | undefined;
  /** TWILIO_PHONE_NUMBER: the sender of requests that name none. */
  defaultFrom?: string | undefined;
  /** TWILIO_MESSAGING_SERVICE_SID: preferred default sender; required for scheduled sends. */
  defaultMessagingServiceSid?: string | undefined;
  /** TWILIO_STATUS_CALLBACK_URL, attached unless the request names its own. */
  statusCallbackUrl?: string | undefined;
}

const reject = (code: string, reason: string): ValidationResult => ({ ok: false, code, reason });

/**
 * The validate stage's rules on top of src/sms: the recipient is normalised
 * to E.164 (emergency, premium-rate and blocked countries refused), the sender
 * resolved (request, then tenant, then configuration), a template rendered,
 * and body, media and segment rules applied. Pure and synchronous.
 */
export class SmsOutboundValidator implements OutboundValidator {
  constructor(private readonly o: SmsOutboundValidatorOptions) {}

  validate(request: OutboundRequest, recipient: string): ValidationResult {
    const data = request.data;
    let to = recipient;
    if (data.conversationSid === undefined) {
      const phone = this.o.phones.normalize(recipient);
      if (!phone.ok) return reject(phone.code, phone.reason);
      to = phone.e164;
    }
    const sender = this.sender(request);
    if ('code' in sender) return reject(sender.code, sender.reason);

    let body = data.body;
    if (data.template !== undefined) {
      if (!this.o.templates) return reject('TEMPLATE_UNKNOWN', `no template named ${data.template.name}`);
      const rendered = this.o.templates.render(data.template.name, data.template.variables);
      if (!rendered.ok) return reject(rendered.code, rendered.reason);
      body = rendered.body;
    }
    const mediaUrls = data.mediaUrls ?? [];
    const checked =
      data.conversationSid === undefined
        ? this.o.sms.validate({
            ...sender,
            ...(body !== undefined ? { body } : {}),
            media: mediaUrls,
            ...(data.smartEncoded !== undefined ? { smartEncoded: data.smartEncoded } : {}),
          })
        : this.conversationContent(body ?? '', mediaUrls);
    if (!checked.ok) return reject(checked.code, checked.reason);
    const info = checked.encoding;
    const message: OutboundMessage = {
      to,
      from: data.conversationSid === undefined ? sender.from : undefined,
      messagingServiceSid: data.conversationSid === undefined ? sender.messagingServiceSid : undefined,
      body: checked.body,
      bodyAsSent: info !== undefined && info.text !== checked.body ? info.text : undefined,
      mediaUrls,
      statusCallback: data.statusCallbackUrl ?? this.o.statusCallbackUrl,
      sendAt: data.sendAt !== undefined ? new Date(data.sendAt) : undefined,
      validityPeriodSecs: data.validityPeriodSecs,
      smartEncoded: data.smartEncoded,
      encoding: info?.encoding ?? 'GSM-7',
      segments: info?.segments ?? 1,
      conversationSid: data.conversationSid,
    };
    return { ok: true, message };
  }

  recipientKey(request: OutboundRequest, recipient: string): string {
    if (request.data.conversationSid !== undefined) return recipient;
    const phone = this.o.phones.normalize(recipient);
    return phone.ok ? phone.e164 : recipient;
  }

  // A Conversations reply has no sender or segments of its own: only its content is checked.
  private conversationContent(body: string, mediaUrls: string[]): SmsValidationResult {
    const media = mediaUrls.map((url) => ({ url }));
    const mediaProblem = this.o.sms.checkMedia(media)[0];
    if (mediaProblem)
      return { ok: false, code: mediaProblem.code, reason: mediaProblem.reason, rejections: [mediaProblem] };
    if (body.trim() === '') {
      if (media.length > 0) return { ok: true, body, encoding: undefined, media };
      return { ok: false, code: 'SMS_BODY_EMPTY', reason: 'a reply needs a body or a media URL', rejections: [] };
    }
    const b = this.o.sms.checkBody(body, { segmented: false });
    if (!b.ok) return { ok: false, code: b.rejection.code, reason: b.rejection.reason, rejections: [b.rejection] };
    return { ok: true, body, encoding: b.encoding, media };
  }

  private sender(
    request: OutboundRequest,
  ): { from: string | undefined; messagingServiceSid: string | undefined } | { code: string; reason: string } {
    const d = request.data;
    if (d.conversationSid !== undefined) return { from: undefined, messagingServiceSid: undefined };
    const defaultService = request.tenant.messagingServiceSid ?? this.o.defaultMessagingServiceSid;
    // A scheduled send needs a messaging service even when the request names a number.
    const messagingServiceSid =
      d.messagingServiceSid ?? (d.from === undefined || d.sendAt !== undefined ? defaultService : undefined);
    const from = d.from ?? (messagingServiceSid === undefined ? this.o.defaultFrom : undefined);
    if (d.sendAt !== undefined && messagingServiceSid === undefined) {
      return { code: 'SCHEDULE_NEEDS_MESSAGING_SERVICE', reason: OUTCOME_CODES.SCHEDULE_NEEDS_MESSAGING_SERVICE };
    }
    if (from === undefined && messagingServiceSid === undefined) {
      return { code: 'NO_SENDER', reason: OUTCOME_CODES.NO_SENDER };
    }
    return { from, messagingServiceSid };
  }
}
