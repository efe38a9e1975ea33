/**
 * Phone numbers: parse any human or machine format into E.164 with
 * libphonenumber-js, and refuse numbers an automated sender must never text.
 *
 * The "max" metadata is used because only it knows number types (premium
 * rate) and validates the national number pattern, not just its length.
 */
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type NumberType,
} from 'libphonenumber-js/max';

import { RecentMap } from '../common/recent-map';

export { redactPhone } from '../observability/redact';
export type { CountryCode };

export const PHONE_REJECTION_CODES = [
  'SMS_PHONE_EMPTY',
  'SMS_PHONE_INVALID',
  'SMS_PHONE_EMERGENCY',
  'SMS_PHONE_PREMIUM_RATE',
  'SMS_PHONE_COUNTRY_BLOCKED',
  'SMS_PHONE_COUNTRY_NOT_ALLOWED',
] as const;
export type PhoneRejectionCode = (typeof PHONE_REJECTION_CODES)[number];

export type PhoneResult =
  | { ok: true; e164: string; country: CountryCode | undefined; type: NumberType | undefined }
  | { ok: false; code: PhoneRejectionCode; reason: string };

/**
 * Emergency and crisis numbers across the main markets (North America, EU,
 * UK, Australia/NZ, India, Japan, China, Brazil, South Africa…). Matched on
 * the digits of the input and on the national number after parsing, so
 * `911`, `+1 911` and `112` with a German default country are all caught.
 */
export const DEFAULT_EMERGENCY_NUMBERS: readonly string[] = (
  '000 08 061 062 065 100 101 102 103 104 106 108 110 111 112 113 115 116 117 118 119 122 123 128 133 143 ' +
  '144 145 147 150 155 15 16 17 18 190 191 192 193 194 197 199 911 933 988 995 997 999 10111 10177'
).split(' ');

export interface PhonePolicyOptions {
  /** ISO 3166 alpha-2 country assumed for national input such as `(415) 555-0123`. */
  defaultCountry?: CountryCode;
  /**
   * `valid` (default) requires a number that matches the country's numbering
   * plan; `possible` only checks its length, for fictional test numbers such
   * as +1 555 … that the plan rejects.
   */
  validation?: 'valid' | 'possible';
  /** Refuse premium-rate numbers (default true). */
  blockPremiumRate?: boolean;
  /** Refuse emergency and crisis numbers (default true). */
  blockEmergency?: boolean;
  /** Emergency numbers to refuse (default DEFAULT_EMERGENCY_NUMBERS). */
  emergencyNumbers?: readonly string[];
  /** Countries never texted. */
  blockedCountries?: readonly string[];
  /** When non-empty, the only countries texted; numbers whose country cannot be told are refused too. */
  allowedCountries?: readonly string[];
}

const FORMATTING = /[\s\-().\u00a0\u2010-\u2015/]/g;

/**
 * Results a normaliser remembers. A parse with the "max" metadata (validity and number type) costs about 20 µs,
 * and egress normalises each recipient twice per request (its ledger key, then validation); recipients also recur.
 */
const REMEMBERED_RESULTS = 4096;

/**
 * Normalises and screens recipient numbers. Build one per configuration and
 * reuse it: the option sets are prepared once.
 */
export class PhoneNormalizer {
  private readonly defaultCountry: CountryCode | undefined;
  private readonly validation: 'valid' | 'possible';
  private readonly blockPremiumRate: boolean;
  private readonly emergency: ReadonlySet<string>;
  private readonly blocked: ReadonlySet<string>;
  private readonly allowed: ReadonlySet<string>;
  private readonly results = new RecentMap<PhoneResult>({ maxEntries: REMEMBERED_RESULTS });

  constructor(options: PhonePolicyOptions = {}) {
    const country = options.defaultCountry?.toUpperCase();
    if (country !== undefined && !isSupportedCountry(country)) {
      throw new RangeError(`unsupported default country ${country}`);
    }
    this.defaultCountry = country as CountryCode | undefined;
    this.validation = options.validation ?? 'valid';
    this.blockPremiumRate = options.blockPremiumRate ?? true;
    this.emergency =
      (options.blockEmergency ?? true) ? new Set(options.emergencyNumbers ?? DEFAULT_EMERGENCY_NUMBERS) : new Set();
    this.blocked = new Set((options.blockedCountries ?? []).map((c) => c.toUpperCase()));
    this.allowed = new Set((options.allowedCountries ?? []).map((c) => c.toUpperCase()));
  }

  /** The same input always gives the same result (frozen: callers share it), computed once while remembered. */
  normalize(input: string): PhoneResult {
    const known = this.results.get(input);
    if (known !== undefined) return known;
    const result = Object.freeze(this.screen(input));
    this.results.set(input, result);
    return result;
  }

  private screen(input: string): PhoneResult {
    const trimmed = input.trim();
    if (trimmed === '') return reject('SMS_PHONE_EMPTY', 'the phone number is empty');

    const bareDigits = trimmed.replace(FORMATTING, '').replace(/^\+/, '');
    if (this.emergency.has(bareDigits)) {
      return reject('SMS_PHONE_EMERGENCY', 'emergency and crisis numbers cannot be texted by this service');
    }

    const parsed = parsePhoneNumberFromString(
      trimmed,
      this.defaultCountry ? { defaultCountry: this.defaultCountry } : {},
    );
    if (!parsed) return reject('SMS_PHONE_INVALID', 'not a phone number');
    if (this.emergency.has(parsed.nationalNumber)) {
      return reject('SMS_PHONE_EMERGENCY', 'emergency and crisis numbers cannot be texted by this service');
    }
    const acceptable = this.validation === 'valid' ? parsed.isValid() : parsed.isPossible();
    if (!acceptable) {
      return reject(
        'SMS_PHONE_INVALID',
        this.validation === 'valid'
          ? 'not a valid number in its country’s numbering plan'
          : 'not a possible phone number (wrong length)',
      );
    }

    const type = parsed.getType();
    if (this.blockPremiumRate && type === 'PREMIUM_RATE') {
      return reject('SMS_PHONE_PREMIUM_RATE', 'premium-rate numbers cannot be texted by this service');
    }
    const country = parsed.country;
    if (country !== undefined && this.blocked.has(country)) {
      return reject('SMS_PHONE_COUNTRY_BLOCKED', `numbers in ${country} cannot be texted by this service`);
    }
    if (this.allowed.size > 0 && (country === undefined || !this.allowed.has(country))) {
      return reject(
        'SMS_PHONE_COUNTRY_NOT_ALLOWED',
        country === undefined
          ? 'the number’s country cannot be determined and only some countries are allowed'
          : `numbers in ${country} are not in the allowed countries`,
      );
    }
    return { ok: true, e164: parsed.number, country, type };
  }
}

function reject(code: PhoneRejectionCode, reason: string): PhoneResult {
  return { ok: false, code, reason };
}

/** One-off normalisation; prefer a shared PhoneNormalizer on hot paths. */
export function normalizePhone(input: string, options: PhonePolicyOptions = {}): PhoneResult {
  return new PhoneNormalizer(options).normalize(input);
}

/** True for a syntactically E.164 string (`+` then 7–15 digits); no numbering-plan check. */
export function isE164(value: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(value);
}
