/**
 * The Messages API calls egress makes, behind a narrow port so unit tests use
 * a fake and production uses the official SDK (TwilioMessagesAdapter).
 * Errors are thrown as they come from the SDK; the pipeline classifies them
 * with the Twilio error map.
 */
export interface CreateMessageParams {
  accountSid: string;
  to: string;
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
  body?: string | undefined;
  mediaUrls?: readonly string[] | undefined;
  statusCallback?: string | undefined;
  /** Scheduled send (`ScheduleType=fixed`); Twilio needs a messaging service for it. */
  sendAt?: Date | undefined;
  validityPeriodSecs?: number | undefined;
  smartEncoded?: boolean | undefined;
}

/** The fields of a Twilio Message egress reads (counts parsed to numbers). */
export interface TwilioMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string | null;
  body: string;
  status: string;
  direction: string;
  numSegments: number;
  numMedia: number;
  messagingServiceSid: string | null;
  errorCode: number | null;
  dateCreated: Date | null;
  dateSent: Date | null;
}

export interface ListMessagesFilter {
  accountSid: string;
  to?: string | undefined;
  from?: string | undefined;
  /** `DateSent>`: sent on or after. Twilio gives unsent (queued, scheduled) messages no date_sent. */
  dateSentAfter?: Date | undefined;
  /** `DateSent<`: sent on or before. */
  dateSentBefore?: Date | undefined;
  /** Most messages to return (pages are followed until then). Default 50. */
  limit?: number | undefined;
  /** Twilio page size (≤ 1000). */
  pageSize?: number | undefined;
}

export interface TwilioMessagesPort {
  create(params: CreateMessageParams): Promise<TwilioMessage>;
  fetch(accountSid: string, sid: string): Promise<TwilioMessage>;
  /** Newest first, as Twilio lists them. */
  list(filter: ListMessagesFilter): Promise<TwilioMessage[]>;
  /** `Status=canceled` on a scheduled message. */
  cancel(accountSid: string, sid: string): Promise<TwilioMessage>;
}
