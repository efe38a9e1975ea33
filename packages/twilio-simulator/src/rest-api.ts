import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountRegistry } from './accounts';
import type { BoundedLog } from './bounded-log';
import type { SimClock } from './clock';
import { createMessage, type CreateDeps } from './create-message';
import type { FaultRegistry, RestOperation, RestResource, TerminalFault } from './faults';
import { listMessages } from './list-messages';
import { renderMessage, type SimMessage } from './message';
import type { MessageStore } from './message-store';
import type { FormParams, RecordedInteraction, RecordedRequest, Recorder, ReplayBook } from './recorder';
import { customTwilioError, twilioError, type TwilioErrorBody } from './twilio-errors';
import { executeVoice, matchVoiceRoute, type VoiceRestDeps, type VoiceTarget } from './voice-rest';

/**
 * The Messages API over node:http: routing, Basic auth, faults, record/replay
 * and Twilio-shaped answers. Kept free of per-request allocation beyond the
 * message itself so the simulator stays far faster than what it simulates.
 */
export interface RestRequestLogEntry {
  at: Date;
  method: string;
  operation: RestOperation | 'unknown';
  /** Messages, Calls or Recordings. */
  resource: RestResource;
  path: string;
  accountSid: string | undefined;
  /** HTTP status answered; null when the connection was reset or left hanging. */
  status: number | null;
  fault: TerminalFault['kind'] | 'latency' | undefined;
  /** Twilio error code of an error answer. */
  errorCode: number | undefined;
  /** For creates the recipient (and, when created, the SID); for lists the `To` filter, if any. */
  to: string | undefined;
  sid: string | undefined;
}

export interface RestApiDeps {
  clock: SimClock;
  accounts: AccountRegistry;
  store: MessageStore;
  faults: FaultRegistry;
  recorder: Recorder;
  replay: ReplayBook | undefined;
  defaultPageSize: number;
  requestLog: BoundedLog<RestRequestLogEntry> | undefined;
  /** Validation dependencies for a create in this account. */
  createDeps: (accountSid: string) => CreateDeps;
  /** A message was created: start its progression. */
  onCreated: (m: SimMessage) => void;
  /** Status=canceled on a scheduled message. */
  cancel: (m: SimMessage) => void;
  /** DELETE: hide from the API and stop progression. */
  remove: (m: SimMessage) => void;
  /** Requests that must never be answered; ended on stop(). */
  hung: Set<ServerResponse>;
  /** Tracks in-flight responses delayed by latency, for idle(). */
  track: (p: Promise<unknown>) => void;
  /** Calls and Recordings. */
  voice: VoiceRestDeps;
}

const LIST_ROUTE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\.json)?$/;
const ITEM_ROUTE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/.]+)(?:\.json)?$/;
const MAX_BODY_BYTES = 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  sid?: string | undefined;
  /** Binary answers (recording media). */
  raw?: { contentType: string; bytes: Buffer } | undefined;
}

export class RestApi {
  private requestSeq = 0;

  constructor(private readonly deps: RestApiDeps) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        if (size > MAX_BODY_BYTES) {
          this.write(res, { status: 413, body: customTwilioError(20413, 413, 'Request Entity Too Large') });
          return;
        }
        this.route(req, res, path, query, Buffer.concat(chunks).toString('utf8'));
      });
    } else {
      // Drain any body so keep-alive connections stay usable.
      req.resume();
      this.route(req, res, path, query, '');
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, path: string, query: string, rawBody: string): void {
    const method = req.method ?? 'GET';
    let operation: RestOperation | 'unknown' = 'unknown';
    let accountSid: string | undefined;
    let sid: string | undefined;
    let resource: RestResource = 'messages';
    let voice: VoiceTarget | undefined;
    let m = LIST_ROUTE.exec(path);
    if ((voice = matchVoiceRoute(method, path))) {
      accountSid = voice.accountSid;
      operation = voice.operation;
      resource = voice.resource;
      sid = voice.sid;
    } else if (m) {
      accountSid = m[1];
      operation = method === 'POST' ? 'create' : method === 'GET' ? 'list' : 'unknown';
    } else if ((m = ITEM_ROUTE.exec(path))) {
      accountSid = m[1];
      sid = m[2];
      operation =
        method === 'GET' ? 'fetch' : method === 'POST' ? 'update' : method === 'DELETE' ? 'delete' : 'unknown';
    }
    const form = new URLSearchParams(rawBody);
    const recorded = this.deps.recorder.enabled || this.deps.replay ? this.describe(req, path, query, form) : undefined;

    if (this.deps.replay && recorded) {
      this.replay(res, recorded);
      return;
    }
    if (accountSid === undefined) {
      this.finish(req, res, recorded, { status: 404, body: notFound(path) }, operation, accountSid, undefined);
      return;
    }
    const auth = this.deps.accounts.authenticate(req.headers.authorization, accountSid);
    if (!auth.ok || !this.deps.accounts.has(accountSid)) {
      this.finish(
        req,
        res,
        recorded,
        {
          status: 401,
          body: twilioError(20003),
          headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
        },
        operation,
        accountSid,
        undefined,
      );
      return;
    }
    if (operation === 'unknown') {
      const body = customTwilioError(20004, 405, 'Method not allowed');
      this.finish(req, res, recorded, { status: 405, body }, operation, accountSid, undefined);
      return;
    }

    const to = operation === 'create' ? (form.get('To') ?? undefined) : undefined;
    // Logged only: a list's To filter tells who asked about a recipient (fault rules still match creates' To alone).
    const loggedTo = to ?? (operation === 'list' ? (new URLSearchParams(query).get('To') ?? undefined) : undefined);
    const decision = this.deps.faults.evaluate({
      operation,
      resource,
      accountSid,
      to,
      from: operation === 'create' ? (form.get('From') ?? undefined) : undefined,
      messagingServiceSid: operation === 'create' ? (form.get('MessagingServiceSid') ?? undefined) : undefined,
    });
    const fault = decision.terminal;
    const early =
      fault && (fault.kind === 'rate-limit' || fault.kind === 'server-error' || fault.kind === 'twilio-error');
    const beforeWork = fault && (fault.kind === 'hang' || fault.kind === 'reset') && fault.after === 'receive';

    let answer: Answer | undefined;
    if (early) answer = faultAnswer(fault);
    else if (!beforeWork)
      answer = voice
        ? executeVoice(voice, path, query, form, this.deps.voice)
        : this.execute(operation, accountSid, sid, path, query, form);

    const respond = () => {
      const log = this.deps.requestLog;
      if (fault && (fault.kind === 'hang' || fault.kind === 'reset')) {
        if (log)
          log.push(this.logEntry(method, operation, path, accountSid, undefined, fault.kind, loggedTo, answer?.sid));
        if (recorded) this.deps.recorder.push(this.interaction(recorded, { status: null, outcome: fault.kind }));
        if (fault.kind === 'reset') {
          req.socket.destroy();
        } else {
          this.deps.hung.add(res);
          res.on('close', () => this.deps.hung.delete(res));
        }
        return;
      }
      const a = answer ?? { status: 500, body: twilioError(20500) };
      const faultKind = fault?.kind ?? (decision.latencyMs > 0 ? 'latency' : undefined);
      if (log) log.push(this.logEntry(method, operation, path, accountSid, a, faultKind, loggedTo, a.sid));
      this.write(res, a);
      if (recorded) {
        this.deps.recorder.push(
          this.interaction(recorded, { status: a.status, headers: a.headers ?? {}, body: a.body }),
        );
      }
    };
    if (decision.latencyMs > 0) {
      this.deps.track(
        new Promise<void>((resolve) => {
          setTimeout(() => {
            respond();
            resolve();
          }, decision.latencyMs);
        }),
      );
    } else {
      respond();
    }
  }

  private execute(
    operation: RestOperation,
    accountSid: string,
    sid: string | undefined,
    path: string,
    query: string,
    form: URLSearchParams,
  ): Answer {
    switch (operation) {
      case 'create': {
        const result = createMessage(form, this.deps.createDeps(accountSid));
        if (!result.ok) return errorAnswer(result.error);
        this.deps.store.add(result.message);
        this.deps.onCreated(result.message);
        return { status: 201, body: renderMessage(result.message), sid: result.message.sid };
      }
      case 'list': {
        const result = listMessages(this.deps.store, accountSid, path, query, this.deps.defaultPageSize);
        return result.ok ? { status: 200, body: result.body } : errorAnswer(result.error);
      }
      case 'fetch': {
        const m = sid === undefined ? undefined : this.deps.store.get(accountSid, sid);
        return m ? { status: 200, body: renderMessage(m), sid: m.sid } : { status: 404, body: notFound(path) };
      }
      case 'update': {
        const m = sid === undefined ? undefined : this.deps.store.get(accountSid, sid);
        if (!m) return { status: 404, body: notFound(path) };
        const status = form.get('Status');
        const body = form.get('Body');
        if (status !== null) {
          if (status !== 'canceled') return errorAnswer(twilioError(20001, `Invalid Status: ${status}`));
          if (m.status !== 'scheduled') return errorAnswer(twilioError(30409));
          this.deps.cancel(m);
        }
        if (body !== null) {
          // Twilio only lets the body be redacted (set to ""), never rewritten.
          if (body !== '') return errorAnswer(twilioError(20001, 'Body can only be updated to an empty string.'));
          m.body = '';
          m.dateUpdated = this.deps.clock.now();
        }
        return { status: 200, body: renderMessage(m), sid: m.sid };
      }
      case 'delete': {
        const m = sid === undefined ? undefined : this.deps.store.get(accountSid, sid);
        if (!m) return { status: 404, body: notFound(path) };
        this.deps.remove(m);
        return { status: 204, body: undefined, sid: m.sid };
      }
    }
  }

  private replay(res: ServerResponse, request: RecordedRequest): void {
    const hit = this.deps.replay?.take(request);
    if (!hit) {
      this.write(res, {
        status: 500,
        body: customTwilioError(
          20500,
          500,
          `Simulator replay: no recorded interaction left for ${request.method} ${request.path}`,
        ),
      });
      return;
    }
    if (hit.response.outcome === 'reset' || hit.response.status === null) {
      res.socket?.destroy();
      return;
    }
    this.write(res, { status: hit.response.status, body: hit.response.body, headers: hit.response.headers ?? {} });
  }

  private finish(
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest | undefined,
    answer: Answer,
    operation: RestOperation | 'unknown',
    accountSid: string | undefined,
    to: string | undefined,
  ): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    this.deps.requestLog?.push(
      this.logEntry(req.method ?? 'GET', operation, path, accountSid, answer, undefined, to, undefined),
    );
    this.write(res, answer);
    if (recorded) {
      this.deps.recorder.push(
        this.interaction(recorded, { status: answer.status, headers: answer.headers ?? {}, body: answer.body }),
      );
    }
  }

  private write(res: ServerResponse, a: Answer): void {
    const headers: Record<string, string> = {
      'twilio-request-id': `RQ${(this.requestSeq++).toString(16).padStart(32, '0')}`,
      ...(a.headers ?? {}),
    };
    if (a.raw) {
      headers['content-type'] = a.raw.contentType;
      headers['content-length'] = String(a.raw.bytes.length);
      res.writeHead(a.status, headers);
      res.end(a.raw.bytes);
      return;
    }
    if (a.body === undefined || a.status === 204) {
      res.writeHead(a.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(a.body);
    headers['content-type'] = JSON_TYPE;
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(a.status, headers);
    res.end(text);
  }

  private describe(req: IncomingMessage, path: string, query: string, form: URLSearchParams): RecordedRequest {
    const r: RecordedRequest = { method: req.method ?? 'GET', path: query ? `${path}?${query}` : path };
    const username = this.deps.accounts.authenticate(req.headers.authorization, '').username;
    if (username) r.username = username;
    if (req.method === 'POST') r.form = formToObject(form);
    return r;
  }

  private interaction(request: RecordedRequest, response: RecordedInteraction['response']): RecordedInteraction {
    return {
      kind: 'rest',
      request,
      response,
      timestamp: new Date(this.deps.clock.now()).toISOString(),
    };
  }

  private logEntry(
    method: string,
    operation: RestOperation | 'unknown',
    path: string,
    accountSid: string | undefined,
    answer: Answer | undefined,
    fault: RestRequestLogEntry['fault'],
    to: string | undefined,
    sid: string | undefined,
  ): RestRequestLogEntry {
    const status = answer?.status ?? null;
    const code = status !== null && status >= 400 ? (answer?.body as { code?: unknown } | undefined)?.code : undefined;
    return {
      at: new Date(this.deps.clock.now()),
      method,
      operation,
      resource: resourceOf(path),
      path,
      accountSid,
      status,
      errorCode: typeof code === 'number' ? code : undefined,
      fault,
      to,
      sid,
    };
  }
}

function resourceOf(path: string): RestResource {
  return /\/Recordings(?:[/.]|$)/.test(path) ? 'recordings' : /\/Calls(?:[/.]|$)/.test(path) ? 'calls' : 'messages';
}

export function formToObject(form: URLSearchParams): FormParams {
  const out: FormParams = {};
  for (const key of new Set(form.keys())) {
    const all = form.getAll(key);
    out[key] = all.length === 1 ? (all[0] ?? '') : all;
  }
  return out;
}

function notFound(path: string): TwilioErrorBody {
  return twilioError(20404, `The requested resource ${path} was not found`);
}

function errorAnswer(error: TwilioErrorBody): Answer {
  return { status: error.status, body: error };
}

function faultAnswer(fault: TerminalFault): Answer {
  switch (fault.kind) {
    case 'rate-limit':
      return {
        status: 429,
        body: twilioError(20429),
        headers: fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      };
    case 'server-error': {
      const status = fault.status ?? 500;
      return {
        status,
        body: status === 503 ? twilioError(20503) : customTwilioError(20500, status, 'Internal Server Error'),
      };
    }
    case 'twilio-error':
      return {
        status: fault.status,
        body: customTwilioError(fault.code, fault.status, fault.message ?? `Simulated Twilio error ${fault.code}`),
      };
    default:
      return { status: 500, body: twilioError(20500) };
  }
}
