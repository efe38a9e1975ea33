import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SimulatorError } from './simulator-error';
import { RealClock, type SimClock } from './clock';
import { DEFAULT_RETRY_POLICY, parseRetryPolicy, type RetryClass } from './connection-overrides';
import type { OutcomeRule } from './outcomes';
import type { Recording } from './recorder';
import type { CallbackChaos } from './status-callbacks';
import type { VoiceOptions } from './voice-options';
import { DEFAULT_STATUS_DELAYS, type StatusDelays } from './status-progression';

/** The simulator's options; everything but `accounts` has a default. */
export interface SimulatorAccount {
  accountSid: string;
  authToken: string;
  /** API keys of this account (Basic auth with the key SID and secret). */
  apiKeys?: { sid: string; secret: string }[];
}

export interface SimulatorPhoneNumber {
  phoneNumber: string;
  /** Owner (default: the first account). */
  accountSid?: string;
  /** Messaging webhook for inbound texts to this number (may carry `#rc=…` overrides). */
  smsUrl?: string;
  /** Called when smsUrl fails after its retries, as Twilio's Fallback URL. */
  smsFallbackUrl?: string;
  /** "A call comes in" webhook of this number (incoming calls). */
  voiceUrl?: string;
  /** "Call status changes" callback of this number (all call events). */
  voiceStatusCallback?: string;
  /** The number's messaging service: opt-outs then apply service-wide. */
  messagingServiceSid?: string;
}

export interface SimulatorMessagingService {
  sid: string;
  accountSid?: string;
  /** Senders the service picks from (the first one is used). */
  phoneNumbers?: string[];
}

/**
 * Lets another part (e.g. a Conversations socket) share the simulator's port:
 * return true when the request or upgrade was handled.
 */
export interface SimulatorExtension {
  name: string;
  handleRequest?(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  stop?(): Promise<void> | void;
}

export interface TwilioSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  accounts: SimulatorAccount[];
  /** Simulated time; default the wall clock. Pass a ManualClock to step time in tests. */
  clock?: SimClock;
  /** Seed of every random choice (SIDs, outcomes, fault draws); random when omitted. */
  seed?: number | string;
  /** Delay before entering each status (ms of simulated time). */
  statusDelaysMs?: Partial<StatusDelays>;
  /** false: messages stay in their first status until `step()`/`setStatus()` (benchmarks, hand-driven tests). */
  autoProgress?: boolean;
  /** How accepted messages end (first match wins; default delivered). */
  outcomes?: OutcomeRule[];
  /** Duplicated / out-of-order status callbacks. */
  callbacks?: CallbackChaos;
  /** Numbers of the accounts. When given, `From` must be one of the account's numbers (else 21606). */
  phoneNumbers?: SimulatorPhoneNumber[];
  messagingServices?: SimulatorMessagingService[];
  /** Where inbound texts go when neither the call nor the number names a URL. */
  inboundWebhookUrl?: string;
  /** Twilio's test numbers (+15005550001 … ) answer with their documented errors (default true). */
  magicNumbers?: boolean;
  /** Adds OptOutType to inbound webhooks for opt-out keywords, as Advanced Opt-Out does (default true). */
  advancedOptOut?: boolean;
  /** Retry policy when a webhook URL has no `#rp=` (Twilio's default: `ct`, connect failures only). */
  defaultRetryPolicy?: string;
  /** Sign webhook URLs including the `#…` fragment (default false: Twilio signs the URL it requests). */
  signFragment?: boolean;
  /** Record interactions; with `path`, the recording is written there on stop(). */
  record?: boolean | { path: string };
  /** Answer REST requests from a recording (object or file path). */
  replay?: Recording | string;
  /** Default page size of list requests (Twilio: 50). */
  defaultPageSize?: number;
  /** Keep a log of every REST request for inspection (default true). */
  requestLog?: boolean;
  /**
   * Messages kept for the API and inspection (default 100,000; about 1 KB each); older ones are
   * dropped, while send counts and duplicate counts stay exact. The request and
   * webhook logs keep the same number of entries.
   */
  maxStoredMessages?: number;
  extensions?: SimulatorExtension[];
  /** How calls play out (who answers, status callback chaos); see README "Voice". */
  voice?: VoiceOptions;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  accounts: SimulatorAccount[];
  clock: SimClock;
  seed: number | string | undefined;
  statusDelays: StatusDelays;
  autoProgress: boolean;
  outcomes: OutcomeRule[];
  callbacks: CallbackChaos;
  phoneNumbers: SimulatorPhoneNumber[];
  messagingServices: SimulatorMessagingService[];
  inboundWebhookUrl: string | undefined;
  magicNumbers: boolean;
  advancedOptOut: boolean;
  defaultRetryPolicy: readonly RetryClass[];
  signFragment: boolean;
  recordPath: string | undefined;
  record: boolean;
  replay: Recording | string | undefined;
  defaultPageSize: number;
  requestLog: boolean;
  maxStoredMessages: number;
  extensions: SimulatorExtension[];
  voice: VoiceOptions;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const KEY_SID = /^SK[0-9a-fA-F]{32}$/;

function invalid(message: string): SimulatorError {
  return new SimulatorError('IE_CONFIG_INVALID', `Invalid simulator options: ${message}`);
}

export function resolveOptions(o: TwilioSimulatorOptions): ResolvedOptions {
  if (!Array.isArray(o.accounts) || o.accounts.length === 0) throw invalid('at least one account is required');
  for (const a of o.accounts) {
    if (!ACCOUNT_SID.test(a.accountSid)) throw invalid('accountSid must be AC followed by 32 hex characters');
    if (!a.authToken) throw invalid(`account ${a.accountSid} needs an authToken`);
    for (const k of a.apiKeys ?? []) {
      if (!KEY_SID.test(k.sid)) throw invalid('API key SIDs must be SK followed by 32 hex characters');
      if (!k.secret) throw invalid(`API key ${k.sid} needs a secret`);
    }
  }
  const delays = { ...DEFAULT_STATUS_DELAYS, ...(o.statusDelaysMs ?? {}) };
  for (const [k, v] of Object.entries(delays)) {
    if (!Number.isFinite(v) || v < 0) throw invalid(`statusDelaysMs.${k} must be a number >= 0`);
  }
  const maxStored = o.maxStoredMessages ?? 100_000;
  if (!(maxStored >= 1)) throw invalid('maxStoredMessages must be >= 1');
  const pageSize = o.defaultPageSize ?? 50;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw invalid('defaultPageSize must be 1..1000');
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    accounts: o.accounts,
    clock: o.clock ?? new RealClock(),
    seed: o.seed,
    statusDelays: delays,
    autoProgress: o.autoProgress ?? true,
    outcomes: o.outcomes ?? [],
    callbacks: o.callbacks ?? {},
    phoneNumbers: o.phoneNumbers ?? [],
    messagingServices: o.messagingServices ?? [],
    inboundWebhookUrl: o.inboundWebhookUrl,
    magicNumbers: o.magicNumbers ?? true,
    advancedOptOut: o.advancedOptOut ?? true,
    defaultRetryPolicy: [...parseRetryPolicy(o.defaultRetryPolicy, DEFAULT_RETRY_POLICY)],
    signFragment: o.signFragment ?? false,
    record: o.record !== undefined && o.record !== false,
    recordPath: typeof o.record === 'object' ? o.record.path : undefined,
    replay: o.replay,
    defaultPageSize: pageSize,
    requestLog: o.requestLog ?? true,
    maxStoredMessages: maxStored,
    extensions: o.extensions ?? [],
    voice: o.voice ?? {},
  };
}
