/**
 * Business rules for an outbound SMS/MMS, checked before Twilio is called so
 * that a bad request becomes a rejected outcome with a stable code instead of
 * a paid API call that fails (21602, 21617, 21620, 21623, …).
 */
import { analyzeSms, type SmsEncodingInfo } from './encoding';
import { isE164 } from './phone';

export const SMS_REJECTION_CODES = [
  'SMS_SENDER_MISSING',
  'SMS_SENDER_INVALID',
  'SMS_MESSAGING_SERVICE_INVALID',
  'SMS_BODY_EMPTY',
  'SMS_BODY_TOO_LONG',
  'SMS_TOO_MANY_SEGMENTS',
  'SMS_MEDIA_TOO_MANY',
  'SMS_MEDIA_URL_INVALID',
  'SMS_MEDIA_URL_NOT_HTTPS',
  'SMS_MEDIA_TYPE_NOT_ALLOWED',
] as const;
export type SmsRejectionCode = (typeof SMS_REJECTION_CODES)[number];

export interface SmsRejection {
  code: SmsRejectionCode;
  /** A human sentence, safe to log and to put in an outcome event: it never quotes a number or the body. */
  reason: string;
  field: 'from' | 'messagingServiceSid' | 'body' | 'media';
}

export interface MediaItem {
  url: string;
  contentType?: string;
}

export interface OutboundSmsInput {
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  media?: readonly (string | MediaItem)[];
  /** Per-message Smart Encoding; falls back to the validator's option. */
  smartEncoded?: boolean;
}

export type SmsValidationResult =
  | {
      ok: true;
      body: string;
      /** Encoding and segments of the body; undefined for an MMS without text. */
      encoding: SmsEncodingInfo | undefined;
      media: MediaItem[];
    }
  | { ok: false; code: SmsRejectionCode; reason: string; rejections: SmsRejection[] };

export type BodyCheck = { ok: true; encoding: SmsEncodingInfo } | { ok: false; rejection: SmsRejection };

export interface SmsValidationOptions {
  /** Most segments one SMS may take (TWILIO_MAX_SEGMENTS). */
  maxSegments: number;
  /** Twilio's hard limit is 1600 characters (error 21617). */
  maxBodyLength?: number;
  /** Twilio accepts at most 10 media URLs per message. */
  maxMedia?: number;
  /** MIME types (or `type/*` patterns) accepted for media; default DEFAULT_ALLOWED_MEDIA_TYPES. */
  allowedMediaTypes?: readonly string[];
  /** Smart Encoding for messages that do not say (default false). */
  smartEncoding?: boolean;
}

export const MAX_BODY_LENGTH = 1600;
export const MAX_MEDIA = 10;

/** Twilio's supported MMS types (JPEG, GIF and PNG are the ones it formats for handsets) plus common accepted ones. */
export const DEFAULT_ALLOWED_MEDIA_TYPES: readonly string[] = [
  'image/jpeg',
  'image/jpg',
  'image/gif',
  'image/png',
  'image/bmp',
  'image/webp',
  'image/tiff',
  'audio/mpeg',
  'audio/mp4',
  'audio/ogg',
  'audio/amr',
  'audio/3gpp',
  'video/mp4',
  'video/mpeg',
  'video/3gpp',
  'video/quicktime',
  'video/webm',
  'text/vcard',
  'text/x-vcard',
  'text/calendar',
  'application/pdf',
];

// Used only when the request gives no content type: a URL ending in .exe or
// .html is refused early; an unknown extension is left for Twilio to judge.
const TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  png: 'image/png',
  bmp: 'image/bmp',
  webp: 'image/webp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  amr: 'audio/amr',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  '3gp': 'video/3gpp',
  mov: 'video/quicktime',
  webm: 'video/webm',
  vcf: 'text/vcard',
  ics: 'text/calendar',
  pdf: 'application/pdf',
  html: 'text/html',
  htm: 'text/html',
  js: 'text/javascript',
  exe: 'application/x-msdownload',
  zip: 'application/zip',
};

const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const SHORT_CODE = /^\d{3,8}$/;
// Alphanumeric sender IDs: up to 11 of A–Z, a–z, 0–9 and space, with at least one letter.
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

export class SmsValidator {
  private readonly maxSegments: number;
  private readonly maxBodyLength: number;
  private readonly maxMedia: number;
  private readonly exactTypes: ReadonlySet<string>;
  private readonly typePrefixes: readonly string[];
  private readonly allowAnyType: boolean;
  private readonly smartEncoding: boolean;

  constructor(options: SmsValidationOptions) {
    if (!Number.isInteger(options.maxSegments) || options.maxSegments < 1) {
      throw new RangeError('maxSegments must be a whole number >= 1');
    }
    this.maxSegments = options.maxSegments;
    this.maxBodyLength = options.maxBodyLength ?? MAX_BODY_LENGTH;
    this.maxMedia = options.maxMedia ?? MAX_MEDIA;
    this.smartEncoding = options.smartEncoding ?? false;
    const types = (options.allowedMediaTypes ?? DEFAULT_ALLOWED_MEDIA_TYPES).map((t) => t.trim().toLowerCase());
    this.allowAnyType = types.includes('*/*');
    this.exactTypes = new Set(types.filter((t) => !t.endsWith('/*')));
    this.typePrefixes = types.filter((t) => t.endsWith('/*')).map((t) => t.slice(0, -1));
  }

  /** Every rule; the first rejection (sender, then body, then media) is the one reported as `code`. */
  validate(input: OutboundSmsInput): SmsValidationResult {
    const rejections: SmsRejection[] = [...this.checkSender(input)];
    const media = (input.media ?? []).map((m) => (typeof m === 'string' ? { url: m } : m));
    const body = input.body ?? '';
    let encoding: SmsEncodingInfo | undefined;
    if (body.trim() === '') {
      if (media.length === 0) {
        rejections.push({
          code: 'SMS_BODY_EMPTY',
          reason: 'a message needs a body or at least one media URL',
          field: 'body',
        });
      }
    } else {
      const checked = this.checkBody(body, { smartEncoded: input.smartEncoded, segmented: media.length === 0 });
      if (checked.ok) encoding = checked.encoding;
      else rejections.push(checked.rejection);
    }
    rejections.push(...this.checkMedia(media));
    const first = rejections[0];
    if (first) return { ok: false, code: first.code, reason: first.reason, rejections };
    return { ok: true, body, encoding, media };
  }

  /**
   * Body rules alone (templates use this on their output). `segmented: false`
   * is for MMS, whose text travels whole rather than in SMS segments.
   */
  checkBody(body: string, options: { smartEncoded?: boolean; segmented?: boolean } = {}): BodyCheck {
    if (body.trim() === '') {
      return { ok: false, rejection: { code: 'SMS_BODY_EMPTY', reason: 'the message body is empty', field: 'body' } };
    }
    // UTF-16 units: never fewer than Twilio's character count, so a body that passes cannot hit 21617.
    if (body.length > this.maxBodyLength) {
      return {
        ok: false,
        rejection: {
          code: 'SMS_BODY_TOO_LONG',
          reason: `the body has ${body.length} characters; the limit is ${this.maxBodyLength}`,
          field: 'body',
        },
      };
    }
    const encoding = analyzeSms(body, { smartEncoding: options.smartEncoded ?? this.smartEncoding });
    if ((options.segmented ?? true) && encoding.segments > this.maxSegments) {
      const why =
        encoding.encoding === 'UCS-2'
          ? ` (UCS-2 because of ${encoding.nonGsmCharacters
              .slice(0, 5)
              .map((c) => JSON.stringify(c))
              .join(', ')})`
          : '';
      return {
        ok: false,
        rejection: {
          code: 'SMS_TOO_MANY_SEGMENTS',
          reason: `the body needs ${encoding.segments} segments${why}; the limit is ${this.maxSegments}`,
          field: 'body',
        },
      };
    }
    return { ok: true, encoding };
  }

  checkSender(input: Pick<OutboundSmsInput, 'from' | 'messagingServiceSid'>): SmsRejection[] {
    const from = input.from?.trim() || undefined;
    const service = input.messagingServiceSid?.trim() || undefined;
    if (from === undefined && service === undefined) {
      return [
        {
          code: 'SMS_SENDER_MISSING',
          reason: 'a sender is required: a from number, short code or sender ID, or a messaging service SID',
          field: 'from',
        },
      ];
    }
    const out: SmsRejection[] = [];
    if (from !== undefined && !isE164(from) && !SHORT_CODE.test(from) && !ALPHANUMERIC_SENDER.test(from)) {
      out.push({
        code: 'SMS_SENDER_INVALID',
        reason: 'from must be an E.164 number, a short code or an alphanumeric sender ID of up to 11 characters',
        field: 'from',
      });
    }
    if (service !== undefined && !MESSAGING_SERVICE_SID.test(service)) {
      out.push({
        code: 'SMS_MESSAGING_SERVICE_INVALID',
        reason: 'messagingServiceSid must be MG followed by 32 hex characters',
        field: 'messagingServiceSid',
      });
    }
    return out;
  }

  checkMedia(media: readonly MediaItem[]): SmsRejection[] {
    const out: SmsRejection[] = [];
    if (media.length > this.maxMedia) {
      out.push({
        code: 'SMS_MEDIA_TOO_MANY',
        reason: `${media.length} media URLs; the limit is ${this.maxMedia}`,
        field: 'media',
      });
    }
    media.forEach((item, i) => {
      let url: URL;
      try {
        url = new URL(item.url);
      } catch {
        out.push({ code: 'SMS_MEDIA_URL_INVALID', reason: `media ${i + 1} is not a URL`, field: 'media' });
        return;
      }
      // Twilio fetches the media itself; plain http would let anyone on the path swap the content.
      if (url.protocol !== 'https:') {
        out.push({ code: 'SMS_MEDIA_URL_NOT_HTTPS', reason: `media ${i + 1} must be an https URL`, field: 'media' });
        return;
      }
      const type = item.contentType?.split(';')[0]?.trim().toLowerCase() || inferType(url);
      if (type !== undefined && !this.isAllowedType(type)) {
        out.push({
          code: 'SMS_MEDIA_TYPE_NOT_ALLOWED',
          reason: `media ${i + 1} has content type ${type}, which is not allowed`,
          field: 'media',
        });
      }
    });
    return out;
  }

  private isAllowedType(type: string): boolean {
    return this.allowAnyType || this.exactTypes.has(type) || this.typePrefixes.some((p) => type.startsWith(p));
  }
}

function inferType(url: URL): string | undefined {
  const m = /\.([a-z0-9]+)$/i.exec(url.pathname);
  return m?.[1] ? TYPE_BY_EXTENSION[m[1].toLowerCase()] : undefined;
}
