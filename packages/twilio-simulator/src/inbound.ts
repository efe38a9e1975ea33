import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { API_VERSION } from './message';
import { optOutTypeOf, type OptOutType } from './opt-out';

/**
 * The parameters Twilio posts to a number's messaging webhook when a phone
 * texts it: identifiers, both numbers, geo fields (empty when unknown, as
 * Twilio sends them), media as MediaUrl{N}/MediaContentType{N}, segments, and
 * OptOutType for Advanced Opt-Out keywords.
 */
export interface InboundMedia {
  url: string;
  contentType: string;
}

export interface GeoFields {
  FromCity?: string;
  FromState?: string;
  FromZip?: string;
  FromCountry?: string;
  ToCity?: string;
  ToState?: string;
  ToZip?: string;
  ToCountry?: string;
}

export interface InboundParamsInput {
  messageSid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  media: readonly InboundMedia[];
  numSegments: number;
  messagingServiceSid?: string | undefined;
  geo?: GeoFields | undefined;
  advancedOptOut: boolean;
  /** Extra or overriding parameters, e.g. to test a payload Twilio might send. */
  extraParams?: Record<string, string> | undefined;
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
  pdf: 'application/pdf',
  vcf: 'text/vcard',
};

/** Guesses a media content type from the URL's extension (image/jpeg when unknown, Twilio's most common). */
export function contentTypeOf(url: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  return (ext && CONTENT_TYPES[ext]) || 'image/jpeg';
}

export function countryOf(phone: string): string {
  const parsed = parsePhoneNumberFromString(phone);
  return parsed?.country ?? parsed?.getPossibleCountries()[0] ?? '';
}

export function buildInboundParams(input: InboundParamsInput): {
  params: Record<string, string>;
  optOutType: OptOutType | undefined;
} {
  const optOutType = optOutTypeOf(input.body);
  const geo = input.geo ?? {};
  const params: Record<string, string> = {
    ToCountry: geo.ToCountry ?? countryOf(input.to),
    ToState: geo.ToState ?? '',
    SmsMessageSid: input.messageSid,
    NumMedia: String(input.media.length),
    ToCity: geo.ToCity ?? '',
    FromZip: geo.FromZip ?? '',
    SmsSid: input.messageSid,
    FromState: geo.FromState ?? '',
    SmsStatus: 'received',
    FromCity: geo.FromCity ?? '',
    Body: input.body,
    FromCountry: geo.FromCountry ?? countryOf(input.from),
    To: input.to,
    ToZip: geo.ToZip ?? '',
    NumSegments: String(input.numSegments),
    MessageSid: input.messageSid,
    AccountSid: input.accountSid,
    From: input.from,
    ApiVersion: API_VERSION,
  };
  if (input.messagingServiceSid) params.MessagingServiceSid = input.messagingServiceSid;
  input.media.forEach((m, i) => {
    params[`MediaContentType${i}`] = m.contentType;
    params[`MediaUrl${i}`] = m.url;
  });
  if (input.advancedOptOut && optOutType) params.OptOutType = optOutType;
  Object.assign(params, input.extraParams ?? {});
  return { params, optOutType };
}
