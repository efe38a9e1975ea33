/**
 * The Calls API calls voice egress makes, behind a narrow port so unit tests
 * use a fake and production the official SDK (TwilioCallsAdapter). Errors are
 * thrown as the SDK raises them; the pipeline classifies them with the Twilio
 * error map, like message sends.
 */
export interface CreateCallParams {
  accountSid: string;
  to: string;
  from: string;
  /** The TwiML the call runs once answered. */
  twiml: string;
  record?: boolean | undefined;
  recordingStatusCallback?: string | undefined;
  machineDetection?: 'Enable' | 'DetectMessageEnd' | undefined;
  statusCallback?: string | undefined;
  statusCallbackEvents?: readonly string[] | undefined;
  timeoutSecs?: number | undefined;
  timeLimitSecs?: number | undefined;
}

/** The fields of a Twilio Call egress reads. */
export interface TwilioCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  status: string;
  /** `outbound-api` for calls placed through the REST API. */
  direction: string;
  dateCreated: Date | null;
  /** Null until the call is dialled. */
  startTime: Date | null;
}

export interface ListCallsFilter {
  accountSid: string;
  to?: string | undefined;
  from?: string | undefined;
  /** `StartTime>=` (Twilio compares whole UTC days); queued calls have no start time yet. */
  startTimeAfter?: Date | undefined;
  /** Most calls to return (pages followed until then). Default 50. */
  limit?: number | undefined;
}

export interface TwilioCallsPort {
  create(params: CreateCallParams): Promise<TwilioCall>;
  fetch(accountSid: string, callSid: string): Promise<TwilioCall>;
  /** Newest first, as Twilio lists them. */
  list(filter: ListCallsFilter): Promise<TwilioCall[]>;
  /** `Status=completed`: hangs up a live call (queued, ringing or in progress). */
  end(accountSid: string, callSid: string): Promise<TwilioCall>;
}
