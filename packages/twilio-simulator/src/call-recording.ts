import { API_VERSION, rfc2822 } from './message';

/**
 * A recording the simulator made of a call (a voicemail's `<Record>`, a
 * recorded `<Dial>`, or `Record=true` on a created call), rendered as
 * Twilio's account-level Recording resource and as the call's Recording
 * subresource (their fields differ slightly, as in Twilio's API).
 */
export type RecordingSource = 'RecordVerb' | 'DialVerb' | 'OutboundAPI';

export interface SimRecording {
  readonly sid: string;
  readonly accountSid: string;
  readonly callSid: string;
  readonly source: RecordingSource;
  readonly channels: 1 | 2;
  readonly startTime: number;
  readonly dateCreated: number;
  durationSecs: number;
  status: 'in-progress' | 'completed' | 'absent';
  readonly seq: number;
}

export function recordingUri(accountSid: string, sid: string): string {
  return `/2010-04-01/Accounts/${accountSid}/Recordings/${sid}.json`;
}

/** The media address Twilio reports (no credentials; fetching it needs Basic auth). */
export function recordingMediaUrl(apiBase: string, r: SimRecording): string {
  return `${apiBase}/2010-04-01/Accounts/${r.accountSid}/Recordings/${r.sid}`;
}

const statusOf = (r: SimRecording) => (r.status === 'in-progress' ? 'processing' : r.status);

/** `GET /Recordings/{Sid}.json` and the account's list. */
export function renderRecording(r: SimRecording, apiBase: string): Record<string, unknown> {
  const uri = recordingUri(r.accountSid, r.sid);
  const base = uri.slice(0, -'.json'.length);
  return {
    account_sid: r.accountSid,
    api_version: API_VERSION,
    call_sid: r.callSid,
    channels: r.channels,
    conference_sid: null,
    date_created: rfc2822(r.dateCreated),
    date_updated: rfc2822(r.dateCreated),
    duration: String(r.durationSecs),
    encryption_details: null,
    error_code: null,
    media_url: recordingMediaUrl(apiBase, r),
    price: null,
    price_unit: 'USD',
    sid: r.sid,
    source: r.source,
    start_time: rfc2822(r.startTime),
    status: statusOf(r),
    subresource_uris: {
      add_on_results: `${base}/AddOnResults.json`,
      transcriptions: `${base}/Transcriptions.json`,
    },
    uri,
  };
}

/** `GET /Calls/{CallSid}/Recordings.json` items. */
export function renderCallRecording(r: SimRecording): Record<string, unknown> {
  return {
    account_sid: r.accountSid,
    api_version: API_VERSION,
    call_sid: r.callSid,
    channels: r.channels,
    conference_sid: null,
    date_created: rfc2822(r.dateCreated),
    date_updated: rfc2822(r.dateCreated),
    duration: String(r.durationSecs),
    encryption_details: null,
    error_code: null,
    price: null,
    price_unit: 'USD',
    sid: r.sid,
    source: r.source,
    start_time: rfc2822(r.startTime),
    status: r.status === 'in-progress' ? 'processing' : r.status,
    track: 'both',
    uri: `/2010-04-01/Accounts/${r.accountSid}/Calls/${r.callSid}/Recordings/${r.sid}.json`,
  };
}
