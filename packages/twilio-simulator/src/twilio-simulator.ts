import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { SimulatorError } from './simulator-error';
import type { TwilioErrorBody } from './twilio-errors';
import { Lifecycle, type LifecycleState } from './lifecycle';
import { AccountRegistry } from './accounts';
import { BoundedLog } from './bounded-log';
import { isManualClock, type SimClock } from './clock';
import { ControlApi } from './control-api';
import type { CreateDeps } from './create-message';
import { FaultControls } from './fault-controls';
import { FaultRegistry } from './faults';
import { repliesFromTwiml } from './message-replies';
import { buildInboundParams, contentTypeOf, type GeoFields, type InboundMedia } from './inbound';
import { SimulatorInspector } from './inspection';
import type { MessageStatus, SimMessage } from './message';
import { MessageStore } from './message-store';
import { NumberDirectory } from './number-directory';
import { OptOutList, type OptOutType } from './opt-out';
import { resolveOptions, type ResolvedOptions, type TwilioSimulatorOptions } from './options';
import { OutcomeRules } from './outcomes';
import { loadRecording, Recorder, ReplayBook, type Recording } from './recorder';
import { RestApi, type RestRequestLogEntry } from './rest-api';
import { SeededRng } from './rng';
import { countSegments } from './segments';
import { StatusCallbacks } from './status-callbacks';
import { StatusProgression } from './status-progression';
import { WebhookSender, type WebhookDelivery } from './webhook-sender';
import { callViewOf, type SimCall, type SimCallView } from './call';
import { CallCallbacks } from './call-callbacks';
import { CallPlayer, type CallResult, type IncomingCallInput } from './call-player';
import type { CallAnswerRule } from './voice-options';
import type { SimRecording } from './call-recording';
import { CallStore } from './call-store';
import type { CallbackChaos } from './status-callbacks';

/** A phone texting a Twilio number. */
export interface InboundInput {
  from: string;
  to: string;
  body?: string;
  /** Media URLs (content type guessed from the extension). */
  mediaUrls?: string[];
  /** Media with explicit content types (wins over mediaUrls). */
  media?: InboundMedia[];
  /** Where to post (may carry `#rc=…` overrides); default the number's smsUrl, then options.inboundWebhookUrl. */
  webhookUrl?: string;
  /** Posted to when webhookUrl fails after its retries. */
  fallbackUrl?: string;
  /** Default: the number's owner, else the first account. */
  accountSid?: string;
  /** Default: the number's messaging service, if any. */
  messagingServiceSid?: string;
  geo?: GeoFields;
  extraParams?: Record<string, string>;
}

/** A recording as inspection shows it. */
export interface SimRecordingView {
  sid: string;
  accountSid: string;
  callSid: string;
  source: string;
  channels: number;
  durationSecs: number;
  status: string;
  /** The media URL Twilio would report (no credentials). */
  mediaUrl: string;
}

export interface InboundResult {
  messageSid: string;
  /** SIDs of the messages sent back for the `<Message>` verbs of the webhook's TwiML answer (outbound-reply). */
  replies: string[];
  /** The `<Message>` verbs Twilio refused to send (opted-out recipient, empty body, …), with their errors. */
  refusedReplies: TwilioErrorBody[];
  params: Record<string, string>;
  optOutType: OptOutType | undefined;
  /** The delivery to the messaging webhook (undefined when no URL is configured). */
  webhook: WebhookDelivery | undefined;
  fallback: WebhookDelivery | undefined;
  delivered: boolean;
  /** HTTP status of each attempt, null for a network failure or timeout. */
  statusCodes: (number | null)[];
  attempts: number;
}

/**
 * A local Twilio: the Messages REST API as the official SDK uses it, signed
 * status callbacks and inbound webhooks, faults, record/replay and an
 * inspection API. `start()` listens (127.0.0.1, a free port by default);
 * `stop()` ends everything, including hung requests and pending timers.
 */
export class TwilioSimulator {
  readonly clock: SimClock;
  readonly faults: FaultControls;
  readonly inspect: SimulatorInspector;
  /** The STOP list: seed it, or let simulated inbound STOP/START maintain it. */
  readonly optOuts: {
    add: (phone: string, scope?: string, accountSid?: string) => void;
    remove: (phone: string, scope?: string, accountSid?: string) => void;
    clear: () => void;
  };

  private readonly opts: ResolvedOptions;
  private readonly accounts: AccountRegistry;
  private readonly numbers: NumberDirectory;
  private readonly store: MessageStore;
  private readonly optOutList = new OptOutList();
  private readonly sidRng: SeededRng;
  private readonly outcomeRng: SeededRng;
  private readonly faultRng: SeededRng;
  private readonly callbackRng: SeededRng;
  private readonly registry: FaultRegistry;
  private readonly outcomes: OutcomeRules;
  private readonly sender: WebhookSender;
  private readonly callbacks: StatusCallbacks;
  private readonly progression: StatusProgression;
  private readonly recorder: Recorder;
  private readonly replayBook: ReplayBook | undefined;
  private readonly requestLog: BoundedLog<RestRequestLogEntry> | undefined;
  private readonly webhookLog: BoundedLog<WebhookDelivery>;
  private readonly hung = new Set<ServerResponse>();
  private readonly tracked = new Set<Promise<unknown>>();
  private readonly rest: RestApi;
  private readonly control: ControlApi;
  private readonly calls: CallStore;
  private readonly callCallbacks: CallCallbacks;
  private readonly player: CallPlayer;
  private readonly callOutcomes: CallAnswerRule[];
  /** Voice in process: ring a number, inspect calls and recordings, call chaos. */
  readonly voice: {
    /** A phone calls a Twilio number: the signed voice webhook, its TwiML played out; resolves when the call ended. */
    call: (input: IncomingCallInput) => Promise<CallResult>;
    calls: (filter?: { to?: string; from?: string; direction?: string }) => SimCallView[];
    callView: (sid: string) => SimCallView | undefined;
    recordings: (callSid?: string) => SimRecordingView[];
    /** How callees of created calls answer, from now on (before the options' rules). */
    outcome: (rule: CallAnswerRule) => void;
    /** Duplicated / out-of-order call status callbacks from now on. */
    callbacks: (chaos: CallbackChaos) => void;
  };
  private readonly lifecycle: Lifecycle;
  private server: http.Server | undefined;
  private url: string | undefined;

  constructor(options: TwilioSimulatorOptions) {
    this.opts = resolveOptions(options);
    this.clock = this.opts.clock;
    const seed = this.opts.seed ?? new SeededRng().seed;
    // Separate streams: SIDs do not shift when a test adds a fault or a callback.
    this.sidRng = new SeededRng(`${seed}:sid`);
    this.outcomeRng = new SeededRng(`${seed}:outcome`);
    this.faultRng = new SeededRng(`${seed}:fault`);
    this.callbackRng = new SeededRng(`${seed}:callback`);
    this.accounts = new AccountRegistry(this.opts.accounts);
    this.numbers = new NumberDirectory(
      this.opts.phoneNumbers,
      this.opts.messagingServices,
      this.accounts.firstAccountSid,
    );
    this.registry = new FaultRegistry(this.faultRng);
    this.outcomes = new OutcomeRules(this.opts.outcomes, this.outcomeRng);
    this.sender = new WebhookSender({
      clock: this.clock,
      defaultRetryPolicy: this.opts.defaultRetryPolicy,
      signFragment: this.opts.signFragment,
    });
    this.recorder = new Recorder(this.opts.record);
    this.replayBook = this.opts.replay === undefined ? undefined : new ReplayBook(loadRecording(this.opts.replay));
    this.store = new MessageStore(this.opts.maxStoredMessages, (m) => this.progression.catchUp(m));
    this.requestLog = this.opts.requestLog ? new BoundedLog(this.opts.maxStoredMessages) : undefined;
    this.webhookLog = new BoundedLog(this.opts.maxStoredMessages);
    this.callbacks = new StatusCallbacks(
      {
        clock: this.clock,
        rng: this.callbackRng,
        sender: this.sender,
        authTokenOf: (sid) => this.accounts.authToken(sid),
        onDelivered: (d) => this.logWebhook(d),
      },
      this.opts.callbacks,
    );
    this.progression = new StatusProgression({
      clock: this.clock,
      delays: this.opts.statusDelays,
      autoProgress: this.opts.autoProgress,
      onTransition: (m) => this.callbacks.onTransition(m),
      assignSender: (m) => {
        if (m.messagingServiceSid) m.from = this.numbers.senderFor(m.accountSid, m.messagingServiceSid);
      },
    });
    this.faults = new FaultControls(this.registry, this.outcomes, this.callbacks, this.opts.callbacks);
    this.inspect = new SimulatorInspector({
      store: this.store,
      optOuts: this.optOutList,
      requestLog: this.requestLog,
      webhooks: this.webhookLog,
      replay: this.replayBook,
    });
    const first = this.accounts.firstAccountSid;
    this.optOuts = {
      add: (phone, scope, accountSid) => this.optOutList.add(accountSid ?? first, phone, scope),
      remove: (phone, scope, accountSid) => this.optOutList.remove(accountSid ?? first, phone, scope),
      clear: () => this.optOutList.clear(),
    };
    this.calls = new CallStore(this.opts.maxStoredMessages);
    this.callOutcomes = [...(this.opts.voice.outcomes ?? [])];
    this.callCallbacks = new CallCallbacks(
      { rng: this.callbackRng, sender: this.sender, onDelivered: (d) => this.logWebhook(d) },
      this.opts.voice.callbacks ?? {},
    );
    this.player = new CallPlayer({
      clock: this.clock,
      rng: this.sidRng,
      chanceRng: this.outcomeRng,
      sender: this.sender,
      callbacks: this.callCallbacks,
      store: this.calls,
      authTokenOf: (sid) => this.accounts.authToken(sid),
      apiBase: () => this.url ?? '',
      onDelivered: (d) => this.logWebhook(d),
      track: (p) => this.track(p),
      options: { ...this.opts.voice, outcomes: this.callOutcomes },
    });
    this.rest = new RestApi({
      clock: this.clock,
      accounts: this.accounts,
      store: this.store,
      faults: this.registry,
      recorder: this.recorder,
      replay: this.replayBook,
      defaultPageSize: this.opts.defaultPageSize,
      requestLog: this.requestLog,
      createDeps: (accountSid) => this.createDeps(accountSid),
      onCreated: (m) => this.progression.begin(m, this.outcomes.decide(m.to)),
      cancel: (m) => this.progression.force(m, 'canceled', null),
      remove: (m) => {
        this.progression.halt(m);
        this.store.delete(m.sid);
      },
      hung: this.hung,
      track: (p) => this.track(p),
      voice: {
        store: this.calls,
        apiBase: () => this.url ?? '',
        defaultPageSize: this.opts.defaultPageSize,
        createDeps: (accountSid) => ({
          accountSid,
          now: this.clock.now(),
          seq: this.calls.nextSeq(),
          rng: this.sidRng,
          numbers: this.numbers,
        }),
        onCreated: (call, plan) => this.player.outbound(call, plan),
        end: (call) => this.player.end(call),
      },
    });
    this.voice = {
      call: (input) => this.placeIncomingCall(input),
      calls: (filter) =>
        this.calls
          .allCalls()
          .filter(
            (c) =>
              (filter?.to === undefined || c.to === filter.to) &&
              (filter?.from === undefined || c.from === filter.from) &&
              (filter?.direction === undefined || c.direction === filter.direction),
          )
          .map(callViewOf),
      callView: (sid) => {
        const c = this.calls.call(sid);
        return c ? callViewOf(c) : undefined;
      },
      recordings: (callSid) =>
        this.calls
          .allRecordings()
          .filter((r) => callSid === undefined || r.callSid === callSid)
          .map((r) => this.recordingView(r)),
      outcome: (rule) => this.callOutcomes.unshift(rule),
      callbacks: (chaos) => this.callCallbacks.setChaos(chaos),
    };
    this.control = new ControlApi(this);
    this.lifecycle = new Lifecycle(
      'TwilioSimulator',
      () => this.listen(),
      () => this.close(),
    );
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** `http://127.0.0.1:<port>`; throws before start(). */
  get baseUrl(): string {
    if (this.url === undefined) throw new SimulatorError('IE_LIFECYCLE', 'The simulator has not been started');
    return this.url;
  }

  /** The underlying server (for extensions that need it), once started. */
  get httpServer(): http.Server | undefined {
    return this.server;
  }

  async start(): Promise<{ baseUrl: string; port: number }> {
    await this.lifecycle.start();
    const address = this.server?.address() as AddressInfo;
    return { baseUrl: this.baseUrl, port: address.port };
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** The first account's credentials (or the named one's), e.g. to build a client. */
  credentials(accountSid?: string): { accountSid: string; authToken: string } {
    const sid = accountSid ?? this.accounts.firstAccountSid;
    const authToken = this.accounts.authToken(sid);
    if (authToken === undefined) throw new SimulatorError('IE_CONFIG_INVALID', `Unknown simulator account ${sid}`);
    return { accountSid: sid, authToken };
  }

  /** Environment variables that point the service at this simulator. */
  env(): Record<string, string> {
    const { accountSid, authToken } = this.credentials();
    const env: Record<string, string> = {
      TWILIO_API_BASE_URL: this.baseUrl,
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
    };
    const key = this.opts.accounts[0]?.apiKeys?.[0];
    if (key) {
      env.TWILIO_API_KEY_SID = key.sid;
      env.TWILIO_API_KEY_SECRET = key.secret;
    }
    const phone = this.opts.phoneNumbers[0]?.phoneNumber;
    if (phone) env.TWILIO_PHONE_NUMBER = phone;
    const service = this.opts.messagingServices[0]?.sid;
    if (service) env.TWILIO_MESSAGING_SERVICE_SID = service;
    return env;
  }

  /** Simulates a phone texting a Twilio number; resolves once the webhook (and its retries) finished. */
  async sendInbound(input: InboundInput): Promise<InboundResult> {
    const number = this.numbers.number(input.to);
    const accountSid = input.accountSid ?? number?.accountSid ?? this.accounts.firstAccountSid;
    const authToken = this.accounts.authToken(accountSid);
    if (authToken === undefined)
      throw new SimulatorError('IE_CONFIG_INVALID', `Unknown simulator account ${accountSid}`);
    const body = input.body ?? '';
    const media: InboundMedia[] =
      input.media ?? (input.mediaUrls ?? []).map((url) => ({ url, contentType: contentTypeOf(url) }));
    const serviceSid = input.messagingServiceSid ?? this.numbers.serviceOf(input.to);
    const now = this.clock.now();
    const segments = countSegments(body, false);
    const message: SimMessage = {
      sid: this.sidRng.sid(media.length > 0 ? 'MM' : 'SM'),
      accountSid,
      direction: 'inbound',
      from: input.from,
      to: input.to,
      body,
      messagingServiceSid: serviceSid ?? null,
      mediaUrls: media.map((m) => m.url),
      numSegments: segments,
      segments,
      status: 'received',
      dateCreated: now,
      dateUpdated: now,
      dateSent: now,
      errorCode: null,
      errorMessage: null,
      price: null,
      priceUnit: 'USD',
      statusCallback: null,
      sendAt: null,
      validityPeriodSec: null,
      seq: this.store.nextSeq(),
      history: [{ status: 'received', at: now }],
    };
    this.store.add(message);
    const { params, optOutType } = buildInboundParams({
      messageSid: message.sid,
      accountSid,
      from: input.from,
      to: input.to,
      body,
      media,
      numSegments: segments,
      messagingServiceSid: serviceSid,
      geo: input.geo,
      advancedOptOut: this.opts.advancedOptOut,
      extraParams: input.extraParams,
    });
    // Twilio records the opt-out when the text arrives, whatever the webhook answers.
    const scope = serviceSid ?? input.to;
    if (optOutType === 'STOP') this.optOutList.add(accountSid, input.from, scope);
    if (optOutType === 'START') this.optOutList.remove(accountSid, input.from, scope);

    const url = input.webhookUrl ?? number?.smsUrl ?? this.opts.inboundWebhookUrl;
    const idempotencyToken = this.callbackRng.uuid();
    let webhook: WebhookDelivery | undefined;
    let fallback: WebhookDelivery | undefined;
    if (url !== undefined) {
      const send = (kind: 'inbound' | 'inbound-fallback', target: string) =>
        this.sender.deliver({ kind, url: target, params, authToken, messageSid: message.sid, idempotencyToken });
      webhook = await this.trackValue(send('inbound', url));
      this.logWebhook(webhook);
      const fallbackUrl = input.fallbackUrl ?? number?.smsFallbackUrl;
      if (!webhook.delivered && fallbackUrl !== undefined) {
        fallback = await this.trackValue(send('inbound-fallback', fallbackUrl));
        this.logWebhook(fallback);
      }
    }
    const all = [...(webhook?.attempts ?? []), ...(fallback?.attempts ?? [])];
    // Twilio sends the <Message> replies of the answer that was taken (the fallback's when the webhook failed).
    const answered = webhook?.delivered ? webhook : fallback?.delivered ? fallback : undefined;
    const replies = repliesFromTwiml(answered?.responseBody ?? null, { from: input.from, to: input.to }, () =>
      this.createDeps(accountSid),
    );
    for (const reply of replies.messages) {
      this.store.add(reply);
      this.progression.begin(reply, this.outcomes.decide(reply.to));
    }
    return {
      messageSid: message.sid,
      replies: replies.messages.map((m) => m.sid),
      refusedReplies: replies.refused,
      params,
      optOutType,
      webhook,
      fallback,
      delivered: (webhook?.delivered ?? false) || (fallback?.delivered ?? false),
      statusCodes: all.map((a) => a.status),
      attempts: all.length,
    };
  }

  /**
   * A phone calls a Twilio number: posts the signed voice webhook (the URL
   * given, else the number's voiceUrl), plays the TwiML it answers out and
   * resolves with what happened once the call ended.
   */
  async placeIncomingCall(input: IncomingCallInput): Promise<CallResult> {
    const number = this.numbers.number(input.to);
    const accountSid = input.accountSid ?? number?.accountSid ?? this.accounts.firstAccountSid;
    if (this.accounts.authToken(accountSid) === undefined) {
      throw new SimulatorError('IE_CONFIG_INVALID', `Unknown simulator account ${accountSid}`);
    }
    const now = this.clock.now();
    const statusCallback = input.statusCallback ?? number?.voiceStatusCallback ?? null;
    const call: SimCall = {
      sid: this.sidRng.sid('CA'),
      accountSid,
      direction: 'inbound',
      from: input.from,
      to: input.to,
      parentCallSid: null,
      status: 'queued',
      dateCreated: now,
      dateUpdated: now,
      startTime: null,
      endTime: null,
      answeredBy: null,
      forwardedFrom: input.forwardedFrom ?? null,
      statusCallback,
      statusCallbackEvents: new Set(input.statusCallbackEvents ?? ['initiated', 'ringing', 'answered', 'completed']),
      sequence: 0,
      seq: this.calls.nextSeq(),
      history: [{ status: 'queued', at: now }],
      verbs: [],
    };
    this.calls.addCall(call);
    return this.player.incoming(call, input, input.webhookUrl ?? number?.voiceUrl);
  }

  private recordingView(r: SimRecording): SimRecordingView {
    return {
      sid: r.sid,
      accountSid: r.accountSid,
      callSid: r.callSid,
      source: r.source,
      channels: r.channels,
      durationSecs: r.durationSecs,
      status: r.status,
      mediaUrl: `${this.url ?? ''}/2010-04-01/Accounts/${r.accountSid}/Recordings/${r.sid}`,
    };
  }

  /** Forces a status (e.g. `read`, or a late `sent`) and sends its callback. */
  setStatus(sid: string, status: MessageStatus, errorCode: number | null = null): void {
    const m = this.store.find(sid);
    if (!m) throw new SimulatorError('IE_INTERNAL', `No simulated message ${sid}`);
    this.progression.force(m, status, errorCode);
  }

  /** Moves one message one step along its lifecycle now, whatever the clock says. */
  step(sid: string): MessageStatus | undefined {
    const m = this.store.find(sid);
    return m ? this.progression.step(m) : undefined;
  }

  /**
   * ManualClock only: moves simulated time forward, firing due progressions one
   * at a time and letting their webhooks finish before the next.
   */
  async advance(ms: number): Promise<void> {
    const clock = this.clock;
    if (!isManualClock(clock)) {
      throw new SimulatorError('IE_LIFECYCLE', 'advance() needs a ManualClock (options.clock)');
    }
    const target = clock.now() + Math.max(0, ms);
    await this.idle();
    while (clock.step(target)) await this.idle();
    clock.setTime(target);
    await this.idle();
  }

  /** ManualClock only: advances until no progression is pending (every message settled). */
  async settle(maxSteps = 100_000): Promise<void> {
    const clock = this.clock;
    if (!isManualClock(clock)) {
      throw new SimulatorError('IE_LIFECYCLE', 'settle() needs a ManualClock (options.clock)');
    }
    await this.idle();
    for (let i = 0; i < maxSteps; i++) {
      const due = clock.nextDue();
      if (due === undefined) break;
      clock.step(due);
      await this.idle();
    }
    // Messages without a StatusCallback progress lazily: move time to their last step.
    clock.setTime(this.progression.settledAt);
  }

  /** Resolves when no webhook, delayed answer or callback chain is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.tracked]);
      await this.callbacks.idle();
      await this.callCallbacks.idle();
      await this.sender.idle();
      if (
        this.tracked.size === 0 &&
        this.sender.pending === 0 &&
        this.callbacks.pending === 0 &&
        this.callCallbacks.pending === 0
      )
        return;
    }
  }

  /**
   * Back to a clean slate between tests: messages, counters, logs, faults,
   * outcome rules, opt-outs, recording, pending progressions and hung requests.
   */
  reset(): void {
    this.progression.reset();
    this.callbacks.reset();
    this.player.reset();
    this.callCallbacks.reset();
    this.callCallbacks.setChaos(this.opts.voice.callbacks ?? {});
    this.calls.clear();
    this.callOutcomes.splice(0, this.callOutcomes.length, ...(this.opts.voice.outcomes ?? []));
    this.store.clear();
    this.optOutList.clear();
    this.faults.clear();
    this.recorder.clear();
    this.requestLog?.clear();
    this.webhookLog.clear();
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }

  recording(): Recording {
    return this.recorder.toJSON();
  }

  saveRecording(path: string): void {
    this.recorder.save(path);
  }

  private createDeps(accountSid: string): CreateDeps {
    return {
      accountSid,
      now: this.clock.now(),
      seq: this.store.nextSeq(),
      rng: this.sidRng,
      numbers: this.numbers,
      optOuts: this.optOutList,
      magicNumbers: this.opts.magicNumbers,
    };
  }

  private logWebhook(d: WebhookDelivery): void {
    this.webhookLog.push(d);
    this.recorder.push({
      kind: 'webhook',
      request: {
        method: 'POST',
        path: new URL(d.url).pathname,
        url: d.configuredUrl,
        headers: { 'x-twilio-signature': d.signature, 'i-twilio-idempotency-token': d.idempotencyToken },
        form: d.params,
      },
      response: { status: d.status, attempts: d.attempts.map((a) => ({ status: a.status, error: a.error })) },
      timestamp: d.startedAt.toISOString(),
    });
  }

  private track(p: Promise<unknown>): void {
    this.tracked.add(p);
    void p.finally(() => this.tracked.delete(p)).catch(() => undefined);
  }

  private trackValue<T>(p: Promise<T>): Promise<T> {
    this.track(p);
    return p;
  }

  private handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith('/2010-04-01/')) {
      this.rest.handle(req, res);
      return;
    }
    if (url.startsWith('/__sim/')) {
      this.control.handle(req, res);
      return;
    }
    for (const ext of this.opts.extensions) if (ext.handleRequest?.(req, res)) return;
    req.resume();
    const body = JSON.stringify({
      code: 20404,
      message: `The requested resource ${url.split('?')[0]} was not found`,
      more_info: 'https://www.twilio.com/docs/errors/20404',
      status: 404,
    });
    res.writeHead(404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    for (const ext of this.opts.extensions) if (ext.handleUpgrade?.(req, socket, head)) return;
    socket.destroy();
  }

  private listen(): Promise<void> {
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.handleRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        const { port } = server.address() as AddressInfo;
        const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
        this.url = `http://${host}:${port}`;
        resolve();
      });
    });
  }

  private async close(): Promise<void> {
    this.progression.stopAll();
    this.player.reset();
    this.sender.close();
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
    for (const ext of this.opts.extensions) await ext.stop?.();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    if (this.opts.recordPath) this.recorder.save(this.opts.recordPath);
  }
}
