import { isTerminalCall, type CallAnswer, type CallStatus, type SimCall } from './call';
import type { CallCallbacks } from './call-callbacks';
import { recordingMediaUrl, type RecordingSource, type SimRecording } from './call-recording';
import type { CallStore } from './call-store';
import type { SimClock, SimTimer } from './clock';
import type { CallPlan } from './create-call';
import type { VoiceOptions } from './voice-options';
import { API_VERSION, rfc2822 } from './message';
import type { SeededRng } from './rng';
import { readTwiml, type TwimlVerb } from './twiml-reader';
import type { WebhookDelivery, WebhookKind, WebhookSender } from './webhook-sender';

/** A phone calling a Twilio number. */
export interface IncomingCallInput {
  from: string;
  to: string;
  /** The "A call comes in" URL; default the number's voiceUrl. */
  webhookUrl?: string;
  /** Call status callback URL; default the number's voiceStatusCallback. */
  statusCallback?: string;
  /** Events sent to it (default all: initiated, ringing, answered, completed). */
  statusCallbackEvents?: string[];
  accountSid?: string;
  forwardedFrom?: string;
  callerName?: string;
  stirVerstat?: string;
  geo?: Record<string, string>;
  /** What a `<Dial>`ed number does: answered, no-answer, busy, failed. */
  dial?: CallAnswer;
  /** Seconds the forwarded party talks when it answers. */
  talkSecs?: number;
  /** At a `<Record>`: the caller leaves a message (seconds, transcript), or hangs up first (false). */
  voicemail?: { durationSecs?: number; transcript?: string; digits?: string } | false;
}

export interface CallWebhookSummary {
  kind: WebhookKind;
  url: string;
  status: number | null;
}

export interface CallResult {
  callSid: string;
  status: CallStatus;
  verbs: string[];
  webhooks: CallWebhookSummary[];
  recordingSids: string[];
  dialCallStatus: string | null;
  /** Why the call failed (webhook not answered, TwiML unreadable), else null. */
  error: string | null;
}

export interface CallPlayerDeps {
  clock: SimClock;
  rng: SeededRng;
  chanceRng: SeededRng;
  sender: WebhookSender;
  callbacks: CallCallbacks;
  store: CallStore;
  authTokenOf: (accountSid: string) => string | undefined;
  apiBase: () => string;
  onDelivered: (d: WebhookDelivery) => void;
  track: (p: Promise<unknown>) => void;
  options: VoiceOptions;
}

interface Play {
  call: SimCall;
  /** Simulated time of the call (ms): moves as the call rings, talks and records. */
  cursor: number;
  input: IncomingCallInput | undefined;
  plan: CallPlan | undefined;
  hold: SimTimer | undefined;
  result: CallResult;
}

const DEFAULT_TRANSCRIPT = 'Hello, this is a simulated voicemail. Please call me back.';
const ANSWER_TO_STATUS: Record<Exclude<CallAnswer, 'answered'>, CallStatus> = {
  'no-answer': 'no-answer',
  busy: 'busy',
  failed: 'failed',
};

/**
 * Plays calls out the way Twilio does: asks the webhook for TwiML, runs its
 * verbs (Say, Play, Pause, Gather, Dial, Record, Redirect, Reject, Hangup),
 * follows `<Dial action>` and `<Record action>`, makes recordings, and sends
 * status, recording and transcription callbacks, signed. Ringing, talking and
 * recording take their simulated seconds at once (the call's timestamps move,
 * no one waits); only `<Pause>` holds the call on the clock, so a test can
 * end a live call through the REST API.
 */
export class CallPlayer {
  private readonly plays = new Map<string, Play>();

  constructor(private readonly deps: CallPlayerDeps) {}

  /** A created call: ring the callee, run its TwiML. Starts after the create was answered. */
  outbound(call: SimCall, plan: CallPlan): void {
    const play = this.begin(call, undefined, plan);
    this.deps.track(Promise.resolve().then(() => this.playOutbound(play)));
  }

  /** Rings a Twilio number; resolves when the call ended (or is held by a `<Pause>`). */
  async incoming(call: SimCall, input: IncomingCallInput, webhookUrl: string | undefined): Promise<CallResult> {
    const play = this.begin(call, input, undefined);
    const p = this.playIncoming(play, webhookUrl);
    this.deps.track(p);
    await p;
    return { ...play.result, status: call.status, verbs: [...call.verbs] };
  }

  /** `Status=completed|canceled` through the REST API: false when the call had already ended. */
  end(call: SimCall): boolean {
    if (isTerminalCall(call.status)) return false;
    const play = this.plays.get(call.sid);
    if (play?.hold) this.deps.clock.clearTimer(play.hold);
    const cursor = Math.max(play?.cursor ?? 0, this.deps.clock.now());
    if (play) play.cursor = cursor;
    const status: CallStatus = call.status === 'in-progress' ? 'completed' : 'canceled';
    if (play) this.finish(play, status);
    else this.setStatus(call, status, cursor);
    return true;
  }

  reset(): void {
    for (const p of this.plays.values()) if (p.hold) this.deps.clock.clearTimer(p.hold);
    this.plays.clear();
  }

  private begin(call: SimCall, input: IncomingCallInput | undefined, plan: CallPlan | undefined): Play {
    const play: Play = {
      call,
      cursor: this.deps.clock.now(),
      input,
      plan,
      hold: undefined,
      result: {
        callSid: call.sid,
        status: call.status,
        verbs: [],
        webhooks: [],
        recordingSids: [],
        dialCallStatus: null,
        error: null,
      },
    };
    this.plays.set(call.sid, play);
    return play;
  }

  private async playOutbound(play: Play): Promise<void> {
    const { call, plan } = play;
    if (!plan || isTerminalCall(call.status)) return;
    this.statusCallback(play, 'initiated', 'initiated');
    if (isTerminalCall(call.status)) return;
    this.setStatus(call, 'ringing', play.cursor, play, 'ringing');
    play.cursor += 2000;
    const answer = this.outcomeFor(call.to);
    if (answer !== 'answered') {
      play.cursor += answer === 'no-answer' ? plan.timeoutSecs * 1000 : 0;
      this.finish(play, ANSWER_TO_STATUS[answer]);
      return;
    }
    if (plan.machineDetection) call.answeredBy = 'human';
    this.answer(play);
    let verbs: TwimlVerb[];
    let docUrl: string | null = null;
    if (plan.twiml !== null) {
      const read = readTwiml(plan.twiml);
      if (!read.ok) return this.fail(play, read.reason);
      verbs = read.verbs;
    } else if (plan.url !== null) {
      const fetched = await this.fetchTwiml(play, 'voice', plan.url, {});
      if (!fetched) return;
      verbs = fetched;
      docUrl = plan.url;
    } else {
      verbs = [];
    }
    await this.run(play, verbs, 0, docUrl);
  }

  private async playIncoming(play: Play, webhookUrl: string | undefined): Promise<void> {
    this.setStatus(play.call, 'ringing', play.cursor, play, 'ringing');
    if (webhookUrl === undefined) return this.fail(play, 'the number has no voice URL');
    const verbs = await this.fetchTwiml(play, 'voice', webhookUrl, {});
    if (!verbs) return;
    await this.run(play, verbs, 0, webhookUrl);
  }

  /** Runs verbs from `index` until the document ends, a verb ends the call, or a `<Pause>` holds it. */
  private async run(play: Play, verbs: readonly TwimlVerb[], index: number, docUrl: string | null): Promise<void> {
    const { call } = play;
    for (let i = index; i < verbs.length; i++) {
      if (isTerminalCall(call.status)) return;
      const verb = verbs[i]!;
      call.verbs.push(verb.name);
      switch (verb.name) {
        case 'Say': {
          this.answer(play);
          const words = verb.text.split(/\s+/).filter(Boolean).length;
          play.cursor += Math.max(1, Math.ceil(words / 2.5)) * 1000;
          break;
        }
        case 'Play':
          this.answer(play);
          play.cursor += 3000;
          break;
        case 'Gather':
          this.answer(play);
          play.cursor += secs(verb.attrs.timeout, 5) * 1000;
          break;
        case 'Pause': {
          this.answer(play);
          const ms = secs(verb.attrs.length, 1) * 1000;
          play.hold = this.deps.clock.setTimer(() => {
            play.hold = undefined;
            play.cursor = Math.max(play.cursor + ms, this.deps.clock.now());
            this.deps.track(this.run(play, verbs, i + 1, docUrl));
          }, ms);
          return;
        }
        case 'Hangup':
          this.finish(play, call.status === 'in-progress' ? 'completed' : 'canceled');
          return;
        case 'Reject':
          this.finish(play, verb.attrs.reason === 'busy' ? 'busy' : 'failed');
          return;
        case 'Redirect': {
          const url = resolveUrl(verb.text, docUrl);
          if (url === undefined) break;
          const next = await this.fetchTwiml(play, 'voice', url, {});
          if (!next) return;
          return this.run(play, next, 0, url);
        }
        case 'Dial': {
          const next = await this.dial(play, verb, docUrl);
          if (next === 'ended') return;
          if (next !== 'continue') return this.run(play, next.verbs, 0, next.url);
          break;
        }
        case 'Record': {
          const next = await this.record(play, verb, docUrl);
          if (next === 'ended') return;
          if (next !== 'continue') return this.run(play, next.verbs, 0, next.url);
          break;
        }
        default:
          // Verbs the simulator does not act on (Enqueue, Connect, …) pass by, as if they ended at once.
          break;
      }
    }
    // Twilio hangs up when the document runs out.
    if (!isTerminalCall(call.status)) this.finish(play, 'completed');
  }

  private async dial(
    play: Play,
    verb: TwimlVerb,
    docUrl: string | null,
  ): Promise<'continue' | 'ended' | { verbs: TwimlVerb[]; url: string }> {
    const { call } = play;
    this.answer(play);
    const targets = verb.children.map((c) => c.text).filter(Boolean);
    const answer = play.input?.dial ?? this.deps.options.dialOutcome ?? 'answered';
    const talkSecs = play.input?.talkSecs ?? this.deps.options.talkSecs ?? 30;
    const timeoutSecs = secs(verb.attrs.timeout, 30);
    const child: SimCall = {
      sid: this.deps.rng.sid('CA'),
      accountSid: call.accountSid,
      direction: 'outbound-dial',
      from: verb.attrs.callerId ?? call.from,
      to: targets[0] ?? verb.text,
      parentCallSid: call.sid,
      status: 'queued',
      dateCreated: play.cursor,
      dateUpdated: play.cursor,
      startTime: null,
      endTime: null,
      answeredBy: null,
      forwardedFrom: null,
      statusCallback: null,
      statusCallbackEvents: new Set(),
      sequence: 0,
      seq: this.deps.store.nextSeq(),
      history: [{ status: 'queued', at: play.cursor }],
      verbs: [],
    };
    this.deps.store.addCall(child);
    this.setStatus(child, 'ringing', play.cursor);
    let dialStatus: string;
    let dialDuration = 0;
    if (answer === 'answered') {
      play.cursor += 3000;
      child.startTime = play.cursor;
      this.setStatus(child, 'in-progress', play.cursor);
      play.cursor += talkSecs * 1000;
      dialDuration = talkSecs;
      this.setStatus(child, 'completed', play.cursor);
      child.endTime = play.cursor;
      dialStatus = 'completed';
      const record = verb.attrs.record ?? '';
      if (record.startsWith('record-from')) {
        const cb = resolveUrl(verb.attrs.recordingStatusCallback, docUrl);
        await this.makeRecording(
          play,
          'DialVerb',
          record.endsWith('dual') ? 2 : 1,
          talkSecs,
          child.startTime,
          cb,
          verb.attrs.recordingStatusCallbackEvent,
        );
      }
    } else {
      play.cursor += answer === 'no-answer' ? timeoutSecs * 1000 : 1000;
      this.setStatus(child, ANSWER_TO_STATUS[answer], play.cursor);
      child.endTime = play.cursor;
      dialStatus = answer;
    }
    play.result.dialCallStatus = dialStatus;
    const action = resolveUrl(verb.attrs.action, docUrl);
    if (action === undefined) return 'continue';
    const next = await this.fetchTwiml(play, 'dial-action', action, {
      DialCallStatus: dialStatus,
      DialCallSid: child.sid,
      DialCallDuration: String(dialDuration),
      DialBridged: String(answer === 'answered'),
    });
    return next ? { verbs: next, url: action } : 'ended';
  }

  private async record(
    play: Play,
    verb: TwimlVerb,
    docUrl: string | null,
  ): Promise<'continue' | 'ended' | { verbs: TwimlVerb[]; url: string }> {
    this.answer(play);
    const vm = play.input?.voicemail ?? {};
    if (vm === false) {
      // The caller hung up before the beep.
      this.finish(play, 'completed');
      return 'ended';
    }
    const maxLength = secs(verb.attrs.maxLength, 3600);
    const duration = Math.min(vm.durationSecs ?? 5, maxLength);
    const start = play.cursor;
    play.cursor += duration * 1000;
    const cb = resolveUrl(verb.attrs.recordingStatusCallback, docUrl);
    const rec = await this.makeRecording(
      play,
      'RecordVerb',
      1,
      duration,
      start,
      cb,
      verb.attrs.recordingStatusCallbackEvent,
    );
    const transcribeCb = resolveUrl(verb.attrs.transcribeCallback, docUrl);
    if (verb.attrs.transcribe === 'true' && transcribeCb !== undefined) {
      const token = this.deps.authTokenOf(play.call.accountSid);
      if (token !== undefined) {
        const sid = this.deps.rng.sid('TR');
        const base = `${this.deps.apiBase()}/2010-04-01/Accounts/${play.call.accountSid}`;
        const done = this.deps.callbacks.other(
          play.call.sid,
          'transcription',
          transcribeCb,
          {
            ...this.callParams(play.call),
            TranscriptionSid: sid,
            TranscriptionText: vm.transcript ?? DEFAULT_TRANSCRIPT,
            TranscriptionStatus: 'completed',
            TranscriptionUrl: `${base}/Transcriptions/${sid}`,
            TranscriptionType: 'fast',
            RecordingSid: rec.sid,
            RecordingUrl: recordingMediaUrl(this.deps.apiBase(), rec),
          },
          token,
        );
        await done;
      }
    }
    const action = resolveUrl(verb.attrs.action, docUrl);
    if (action === undefined) return 'continue';
    const next = await this.fetchTwiml(play, 'record-action', action, {
      RecordingSid: rec.sid,
      RecordingUrl: recordingMediaUrl(this.deps.apiBase(), rec),
      RecordingDuration: String(duration),
      Digits: vm.digits ?? 'hangup',
    });
    return next ? { verbs: next, url: action } : 'ended';
  }

  private async makeRecording(
    play: Play,
    source: RecordingSource,
    channels: 1 | 2,
    durationSecs: number,
    startTime: number,
    callbackUrl: string | undefined,
    events: string | undefined,
  ): Promise<SimRecording> {
    const rec: SimRecording = {
      sid: this.deps.rng.sid('RE'),
      accountSid: play.call.accountSid,
      callSid: play.call.sid,
      source,
      channels,
      startTime,
      dateCreated: play.cursor,
      durationSecs,
      status: 'completed',
      seq: this.deps.store.nextSeq(),
    };
    this.deps.store.addRecording(rec);
    play.result.recordingSids.push(rec.sid);
    const wanted = (events ?? 'completed').split(/[ ,]+/);
    const token = this.deps.authTokenOf(play.call.accountSid);
    if (callbackUrl !== undefined && token !== undefined && wanted.includes('completed')) {
      await this.deps.callbacks.other(
        play.call.sid,
        'recording-status',
        callbackUrl,
        {
          AccountSid: rec.accountSid,
          CallSid: rec.callSid,
          RecordingSid: rec.sid,
          RecordingUrl: recordingMediaUrl(this.deps.apiBase(), rec),
          RecordingStatus: 'completed',
          RecordingDuration: String(durationSecs),
          RecordingChannels: String(channels),
          RecordingSource: source,
          RecordingStartTime: rfc2822(startTime),
          RecordingTrack: 'both',
          ErrorCode: '0',
        },
        token,
      );
    }
    return rec;
  }

  /** Posts to a URL that answers TwiML; undefined when the call failed because of it. */
  private async fetchTwiml(
    play: Play,
    kind: WebhookKind,
    url: string,
    extra: Record<string, string>,
  ): Promise<TwimlVerb[] | undefined> {
    const token = this.deps.authTokenOf(play.call.accountSid);
    if (token === undefined) {
      this.fail(play, `unknown account ${play.call.accountSid}`);
      return undefined;
    }
    const d = await this.deps.sender.deliver({
      kind,
      url,
      params: { ...this.callParams(play.call), ...extra },
      authToken: token,
      messageSid: play.call.sid,
      idempotencyToken: this.deps.rng.uuid(),
    });
    this.deps.onDelivered(d);
    play.result.webhooks.push({ kind, url: d.configuredUrl, status: d.status });
    if (!d.delivered || d.responseBody === null) {
      this.fail(play, `${kind} webhook answered ${d.status ?? d.attempts.at(-1)?.error ?? 'nothing'}`);
      return undefined;
    }
    const read = readTwiml(d.responseBody);
    if (!read.ok) {
      this.fail(play, read.reason);
      return undefined;
    }
    return read.verbs;
  }

  private answer(play: Play): void {
    const { call } = play;
    if (call.status === 'in-progress' || isTerminalCall(call.status)) return;
    call.startTime = play.cursor;
    this.setStatus(call, 'in-progress', play.cursor, play, 'answered');
  }

  private fail(play: Play, reason: string): void {
    play.result.error = reason;
    if (!isTerminalCall(play.call.status)) this.finish(play, 'failed');
  }

  private finish(play: Play, status: CallStatus): void {
    const { call, plan } = play;
    if (isTerminalCall(call.status)) return;
    if (play.hold) {
      this.deps.clock.clearTimer(play.hold);
      play.hold = undefined;
    }
    call.endTime = play.cursor;
    if (call.startTime === null && status === 'completed') call.startTime = play.cursor;
    this.setStatus(call, status, play.cursor, play, 'completed');
    if (plan?.record && call.startTime !== null) {
      const secsTalked = Math.max(1, Math.round((play.cursor - call.startTime) / 1000));
      const cb = plan.recordingStatusCallback ?? undefined;
      this.deps.track(
        this.makeRecording(
          play,
          'OutboundAPI',
          1,
          secsTalked,
          call.startTime,
          cb,
          plan.recordingStatusCallbackEvents.join(' ') || undefined,
        ),
      );
    }
    this.plays.delete(call.sid);
  }

  private setStatus(call: SimCall, status: CallStatus, at: number, play?: Play, event?: string): void {
    call.status = status;
    call.dateUpdated = Math.max(call.dateUpdated, at);
    call.history.push({ status, at });
    if (play && event) this.statusCallback(play, event, status);
  }

  private statusCallback(play: Play, event: string, callStatus: string): void {
    const { call } = play;
    if (call.statusCallback === null || !call.statusCallbackEvents.has(event)) return;
    const token = this.deps.authTokenOf(call.accountSid);
    if (token === undefined) return;
    call.sequence += 1;
    const params: Record<string, string> = {
      ...this.callParams(call),
      CallStatus: callStatus,
      SequenceNumber: String(call.sequence - 1),
      Timestamp: rfc2822(play.cursor),
      CallbackSource: 'call-progress-events',
    };
    if (isTerminalCall(call.status)) {
      const d =
        call.startTime === null || call.endTime === null ? 0 : Math.round((call.endTime - call.startTime) / 1000);
      params.CallDuration = String(d);
      params.Duration = String(Math.ceil(d / 60));
    }
    if (call.answeredBy) params.AnsweredBy = call.answeredBy;
    this.deps.callbacks.status(call.sid, call.statusCallback, params, token, event === 'completed');
  }

  private callParams(call: SimCall): Record<string, string> {
    const input = this.plays.get(call.sid)?.input;
    const params: Record<string, string> = {
      AccountSid: call.accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: call.direction,
      From: call.from,
      To: call.to,
      ...(input?.geo ?? {}),
    };
    if (call.forwardedFrom) params.ForwardedFrom = call.forwardedFrom;
    if (input?.callerName) params.CallerName = input.callerName;
    if (input?.stirVerstat) params.StirVerstat = input.stirVerstat;
    if (call.answeredBy) params.AnsweredBy = call.answeredBy;
    return params;
  }

  private outcomeFor(to: string): CallAnswer {
    for (const rule of this.deps.options.outcomes ?? []) {
      if (rule.to !== undefined && rule.to !== to) continue;
      if (rule.probability !== undefined && !this.deps.chanceRng.chance(rule.probability)) continue;
      return rule.answer;
    }
    return 'answered';
  }
}

function secs(raw: string | undefined, fallback: number): number {
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function resolveUrl(raw: string | undefined, docUrl: string | null): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    return docUrl === null ? new URL(raw).toString() : new URL(raw, docUrl).toString();
  } catch {
    return undefined;
  }
}
