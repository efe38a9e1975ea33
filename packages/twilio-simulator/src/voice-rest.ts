import { renderCall, type SimCall } from './call';
import { renderCallRecording, renderRecording } from './call-recording';
import type { CallFilter, CallStore } from './call-store';
import { mp3Bytes, wavBytes } from './audio';
import { createCall, type CallPlan, type CreateCallDeps } from './create-call';
import type { RestOperation, RestResource } from './faults';
import { twilioError, customTwilioError, type TwilioErrorBody } from './twilio-errors';

/**
 * The Calls and Recordings resources of the REST API: which request is
 * which (routes), and what each answers. Auth, faults, logging and the
 * wire format are the REST API's (rest-api.ts), shared with Messages.
 */
export interface VoiceTarget {
  resource: RestResource;
  operation: RestOperation | 'unknown';
  accountSid: string;
  sid: string | undefined;
  /** `Calls/{CallSid}/Recordings…`: the call. */
  callSid: string | undefined;
  /** Recording media: `.wav`, `.mp3` (no extension: WAV, as Twilio serves it). */
  media: 'wav' | 'mp3' | undefined;
}

export interface VoiceAnswer {
  status: number;
  body: unknown;
  raw?: { contentType: string; bytes: Buffer } | undefined;
  sid?: string | undefined;
}

export interface VoiceRestDeps {
  store: CallStore;
  apiBase: () => string;
  defaultPageSize: number;
  createDeps: (accountSid: string) => CreateCallDeps;
  onCreated: (call: SimCall, plan: CallPlan) => void;
  /** Status=completed|canceled: false when the call had already ended. */
  end: (call: SimCall) => boolean;
}

const ACC = '/2010-04-01/Accounts/([^/]+)';
const CALLS = new RegExp(`^${ACC}/Calls(?:\\.json)?$`);
const CALL = new RegExp(`^${ACC}/Calls/(CA[0-9a-fA-F]{32}|[^/.]+)(?:\\.json)?$`);
const CALL_RECORDINGS = new RegExp(`^${ACC}/Calls/([^/.]+)/Recordings(?:\\.json)?$`);
const CALL_RECORDING = new RegExp(`^${ACC}/Calls/([^/.]+)/Recordings/([^/.]+)(?:\\.json)?$`);
const RECORDINGS = new RegExp(`^${ACC}/Recordings(?:\\.json)?$`);
const RECORDING = new RegExp(`^${ACC}/Recordings/([^/.]+)(\\.json|\\.wav|\\.mp3)?$`);
const MAX_PAGE_SIZE = 1000;

export function matchVoiceRoute(method: string, path: string): VoiceTarget | undefined {
  const op = (list: boolean): RestOperation | 'unknown' =>
    list
      ? method === 'POST'
        ? 'create'
        : method === 'GET'
          ? 'list'
          : 'unknown'
      : method === 'GET'
        ? 'fetch'
        : method === 'POST'
          ? 'update'
          : 'unknown';
  let m: RegExpExecArray | null;
  if ((m = CALLS.exec(path))) return target('calls', op(true), m[1], undefined, undefined);
  if ((m = CALL.exec(path))) return target('calls', op(false), m[1], m[2], undefined);
  if ((m = CALL_RECORDINGS.exec(path)))
    return target('recordings', method === 'GET' ? 'list' : 'unknown', m[1], undefined, m[2]);
  if ((m = CALL_RECORDING.exec(path)))
    return target('recordings', method === 'GET' ? 'fetch' : 'unknown', m[1], m[3], m[2]);
  if ((m = RECORDINGS.exec(path)))
    return target('recordings', method === 'GET' ? 'list' : 'unknown', m[1], undefined, undefined);
  if ((m = RECORDING.exec(path))) {
    const ext = m[3];
    const t = target('recordings', method === 'GET' ? 'fetch' : 'unknown', m[1], m[2], undefined);
    t.media = ext === '.json' ? undefined : ext === '.mp3' ? 'mp3' : 'wav';
    return t;
  }
  return undefined;
}

function target(
  resource: RestResource,
  operation: RestOperation | 'unknown',
  accountSid: string | undefined,
  sid: string | undefined,
  callSid: string | undefined,
): VoiceTarget {
  return { resource, operation, accountSid: accountSid ?? '', sid, callSid, media: undefined };
}

const notFound = (path: string): VoiceAnswer => ({
  status: 404,
  body: twilioError(20404, `The requested resource ${path} was not found`),
});
const error = (e: TwilioErrorBody): VoiceAnswer => ({ status: e.status, body: e });

export function executeVoice(
  t: VoiceTarget,
  path: string,
  query: string,
  form: URLSearchParams,
  deps: VoiceRestDeps,
): VoiceAnswer {
  if (t.resource === 'calls') {
    switch (t.operation) {
      case 'create': {
        const result = createCall(form, deps.createDeps(t.accountSid));
        if (!result.ok) return error(result.error);
        deps.store.addCall(result.call);
        const body = renderCall(result.call);
        deps.onCreated(result.call, result.plan);
        return { status: 201, body, sid: result.call.sid };
      }
      case 'list':
        return listCalls(t.accountSid, path, query, deps);
      case 'fetch': {
        const c = t.sid === undefined ? undefined : deps.store.getCall(t.accountSid, t.sid);
        return c ? { status: 200, body: renderCall(c), sid: c.sid } : notFound(path);
      }
      case 'update': {
        const c = t.sid === undefined ? undefined : deps.store.getCall(t.accountSid, t.sid);
        if (!c) return notFound(path);
        const status = form.get('Status');
        if (status === null) {
          return error(twilioError(20001, 'Only Status=completed or Status=canceled is simulated on a call update'));
        }
        if (status !== 'completed' && status !== 'canceled')
          return error(twilioError(20001, `Invalid Status: ${status}`));
        if (status === 'canceled' && c.status === 'in-progress') {
          return error(customTwilioError(21220, 400, 'Call is in progress. Use Status=completed to hang it up.'));
        }
        if (!deps.end(c)) return error(customTwilioError(21220, 400, 'Call is not in-progress. Cannot redirect.'));
        return { status: 200, body: renderCall(c), sid: c.sid };
      }
      default:
        return { status: 405, body: customTwilioError(20004, 405, 'Method not allowed') };
    }
  }
  // Recordings
  if (t.operation === 'list') {
    if (t.callSid !== undefined && !deps.store.getCall(t.accountSid, t.callSid)) return notFound(path);
    const q = new URLSearchParams(query);
    const callSid = t.callSid ?? (q.get('CallSid') || undefined);
    const all = deps.store.listRecordings(t.accountSid, callSid);
    const render =
      t.callSid === undefined ? (r: (typeof all)[number]) => renderRecording(r, deps.apiBase()) : renderCallRecording;
    return {
      status: 200,
      body: page('recordings', all, render, path, q, callSid ? [['CallSid', callSid]] : [], deps.defaultPageSize),
    };
  }
  if (t.operation === 'fetch') {
    const r = t.sid === undefined ? undefined : deps.store.getRecording(t.accountSid, t.sid);
    if (!r || (t.callSid !== undefined && r.callSid !== t.callSid)) return notFound(path);
    if (t.media === 'wav')
      return {
        status: 200,
        body: undefined,
        raw: { contentType: 'audio/x-wav', bytes: wavBytes(r.durationSecs, r.channels) },
        sid: r.sid,
      };
    if (t.media === 'mp3')
      return {
        status: 200,
        body: undefined,
        raw: { contentType: 'audio/mpeg', bytes: mp3Bytes(r.durationSecs) },
        sid: r.sid,
      };
    return {
      status: 200,
      body: t.callSid === undefined ? renderRecording(r, deps.apiBase()) : renderCallRecording(r),
      sid: r.sid,
    };
  }
  return { status: 405, body: customTwilioError(20004, 405, 'Method not allowed') };
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function listCalls(accountSid: string, path: string, query: string, deps: VoiceRestDeps): VoiceAnswer {
  const q = new URLSearchParams(query);
  const filter: CallFilter = {
    accountSid,
    to: q.get('To') || undefined,
    from: q.get('From') || undefined,
    status: q.get('Status') || undefined,
    parentCallSid: q.get('ParentCallSid') || undefined,
  };
  for (const name of ['StartTime', 'StartTime>', 'StartTime<'] as const) {
    const raw = q.get(name);
    if (raw === null || raw === '') continue;
    const dateOnly = DATE_ONLY.test(raw);
    const ms = Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
    if (!Number.isFinite(ms))
      return error(twilioError(20001, `Invalid ${name}: ${raw} is not a date (YYYY-MM-DD or ISO 8601).`));
    const dayStart = Math.floor(ms / DAY_MS) * DAY_MS;
    // Twilio compares whole UTC days for a bare date: StartTime>=YYYY-MM-DD is from that day's start.
    if (name === 'StartTime') {
      filter.startAfter = dayStart;
      filter.startBefore = dayStart + DAY_MS - 1;
    } else if (name === 'StartTime>') filter.startAfter = dateOnly ? dayStart : ms;
    else filter.startBefore = dateOnly ? dayStart + DAY_MS - 1 : ms;
  }
  const filters: [string, string][] = [];
  for (const name of ['To', 'From', 'Status', 'ParentCallSid', 'StartTime', 'StartTime>', 'StartTime<']) {
    const v = q.get(name);
    if (v !== null && v !== '') filters.push([name, v]);
  }
  return {
    status: 200,
    body: page('calls', deps.store.listCalls(filter), renderCall, path, q, filters, deps.defaultPageSize),
  };
}

function pageUri(path: string, filters: [string, string][], pageSize: number, n: number, token?: string): string {
  const q = new URLSearchParams(filters);
  q.set('PageSize', String(pageSize));
  q.set('Page', String(n));
  if (token) q.set('PageToken', token);
  return `${path}?${q.toString()}`;
}

/** Twilio's list envelope and paging (PageToken `PA`+last SID / `PB`+first SID), newest first. */
function page<T extends { sid: string }>(
  key: string,
  all: T[],
  render: (item: T) => unknown,
  path: string,
  q: URLSearchParams,
  filters: [string, string][],
  defaultPageSize: number,
): Record<string, unknown> {
  const rawSize = Number(q.get('PageSize') ?? defaultPageSize);
  const pageSize = Number.isInteger(rawSize) && rawSize > 0 ? Math.min(rawSize, MAX_PAGE_SIZE) : defaultPageSize;
  const rawPage = Number(q.get('Page') ?? 0);
  const n = Number.isInteger(rawPage) && rawPage >= 0 ? rawPage : 0;
  const token = q.get('PageToken') ?? '';
  let startIndex = n * pageSize;
  const anchor = token.length > 2 ? all.findIndex((x) => x.sid === token.slice(2)) : -1;
  if (token.startsWith('PA') && anchor >= 0) startIndex = anchor + 1;
  else if (token.startsWith('PB') && anchor >= 0) startIndex = Math.max(0, anchor - pageSize);
  const items = all.slice(startIndex, startIndex + pageSize);
  const hasMore = startIndex + items.length < all.length;
  const last = items[items.length - 1];
  const first = items[0];
  const start = n * pageSize;
  return {
    [key]: items.map(render),
    end: items.length === 0 ? start : start + items.length - 1,
    first_page_uri: pageUri(path, filters, pageSize, 0),
    next_page_uri: hasMore && last ? pageUri(path, filters, pageSize, n + 1, `PA${last.sid}`) : null,
    page: n,
    page_size: pageSize,
    previous_page_uri: n > 0 && first ? pageUri(path, filters, pageSize, n - 1, `PB${first.sid}`) : null,
    start,
    uri: pageUri(path, filters, pageSize, n, token || undefined),
  };
}
