/**
 * The Twilio REST errors the simulator can answer with, as one data table
 * (code → HTTP status and Twilio's wording). Bodies follow Twilio's shape:
 * `{code, message, more_info, status}`.
 */
export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

interface ErrorRow {
  status: number;
  message: string;
}

export const TWILIO_REST_ERRORS = {
  20003: { status: 401, message: 'Authenticate' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too Many Requests' },
  20500: { status: 500, message: 'Internal Server Error' },
  20503: { status: 503, message: 'Service Unavailable' },
  21211: { status: 400, message: "Invalid 'To' Phone Number" },
  21212: { status: 400, message: "Invalid 'From' Phone Number" },
  21408: {
    status: 400,
    message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
  },
  21602: { status: 400, message: 'Message body is required.' },
  21603: { status: 400, message: "A 'From' or 'MessagingServiceSid' parameter is required to send a message" },
  21604: { status: 400, message: "A 'To' phone number is required." },
  21606: {
    status: 400,
    message:
      "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination.",
  },
  21610: { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  21611: { status: 400, message: "This 'From' number has exceeded the maximum number of queued messages" },
  21612: { status: 400, message: "The 'To' phone number is not currently reachable via SMS" },
  21614: { status: 400, message: "'To' number is not a valid mobile number" },
  21617: { status: 400, message: 'The concatenated message body exceeds the 1600 character limit.' },
  21620: { status: 400, message: 'Invalid media URL(s)' },
  21623: { status: 400, message: 'Number of media files exceeds allowed limit.' },
  21701: { status: 400, message: 'The Messaging Service does not exist' },
  30409: { status: 400, message: 'This message cannot be canceled' },
  35114: { status: 400, message: 'Scheduling does not support this timestamp' },
  20001: { status: 400, message: 'Invalid parameter' },
} as const satisfies Record<number, ErrorRow>;

export type TwilioRestErrorCode = keyof typeof TWILIO_REST_ERRORS;

export function moreInfo(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

/** The body Twilio sends for `code`, with an optional more specific message. */
export function twilioError(code: TwilioRestErrorCode, message?: string): TwilioErrorBody {
  const row: ErrorRow = TWILIO_REST_ERRORS[code];
  return { code, message: message ?? row.message, more_info: moreInfo(code), status: row.status };
}

/** A body for any code and status (faults may inject codes outside the table). */
export function customTwilioError(code: number, status: number, message: string): TwilioErrorBody {
  return { code, message, more_info: moreInfo(code), status };
}

/**
 * Delivery error codes a message can end with (status callbacks' ErrorCode and
 * the resource's error_code), with the text Twilio shows in `error_message`.
 */
export const DELIVERY_ERRORS: Readonly<Record<number, string>> = {
  30001: 'Queue overflow',
  30002: 'Account suspended',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
  30034: 'Message from an unregistered number',
  30036: 'Validity period expired',
};
