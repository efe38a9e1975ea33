import { VoiceEnvelopeBuilder, type EventOf } from '../../../../src/envelope';
import type { EgressContext } from '../../../../src/connector/connector';
import { DlqWriter } from '../../../../src/egress/dlq-writer';
import { createMetrics, silentLogger } from '../../../../src/observability';
import { RateLimiter, RetryPolicy, systemClock, TEST_RETRY } from '../../../../src/resilience';
import { PhoneNormalizer } from '../../../../src/sms/phone';
import { AccountCircuits } from '../../../../src/twilio/egress/account-circuits';
import { IN_FLIGHT_GRACE_MS, OpenAttempts } from '../../../../src/twilio/egress/attempt-over';
import { classifySendError } from '../../../../src/twilio/egress/classify-send-error';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { CallValidator } from '../../../../src/twilio/voice-egress/call-validator';
import type {
  CreateCallParams,
  ListCallsFilter,
  TwilioCall,
  TwilioCallsPort,
} from '../../../../src/twilio/voice-egress/twilio-calls-port';
import type { VoiceEgressDeps } from '../../../../src/twilio/voice-egress/voice-egress-deps';
import { VoiceEgressHandler } from '../../../../src/twilio/voice-egress/voice-egress-handler';
import { MemoryPublisher } from '../../../helpers/memory-publisher';

export const ACCOUNT = 'AC' + 'a'.repeat(32);
export const CALLER = '+14155550100';
export const ALICE = '+14155550123';
export const TWIML = '<Response><Say>Your table is ready.</Say></Response>';

/** `createdAfterMs`: Twilio executes the request that long after the failure our side saw (a late create). */
export type Behaviour =
  | 'ok'
  | { status: number; code?: number; message?: string }
  | { network: string; created: boolean; createdAfterMs?: number };

/**
 * A fake Calls API: keeps placed calls, lists them newest first with the
 * To/From/StartTime filters, plays scripted failures per create (including a
 * timeout after the call was placed: the ambiguous case) and per end.
 */
export class FakeCalls implements TwilioCallsPort {
  readonly calls: TwilioCall[] = [];
  readonly creates: CreateCallParams[] = [];
  readonly lists: ListCallsFilter[] = [];
  readonly ends: string[] = [];
  script: Behaviour[] = [];
  listScript: Behaviour[] = [];
  endScript: Behaviour[] = [];
  private n = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async create(p: CreateCallParams): Promise<TwilioCall> {
    this.creates.push(p);
    const b = this.script.shift() ?? 'ok';
    if (b !== 'ok' && 'status' in b) throw restError(b);
    const c: TwilioCall = {
      sid: 'CA' + (++this.n).toString(16).padStart(32, '0'),
      accountSid: p.accountSid,
      to: p.to,
      from: p.from,
      status: 'queued',
      direction: 'outbound-api',
      dateCreated: new Date(this.now()),
      startTime: null,
    };
    if (b !== 'ok' && 'network' in b) {
      if (b.created) this.calls.push(c);
      else if (b.createdAfterMs !== undefined) {
        setTimeout(() => {
          c.dateCreated = new Date(this.now());
          this.calls.push(c);
        }, b.createdAfterMs);
      }
      throw Object.assign(new Error(`network ${b.network}`), { code: b.network });
    }
    this.calls.push(c);
    return { ...c };
  }

  async fetch(_accountSid: string, sid: string): Promise<TwilioCall> {
    const c = this.calls.find((x) => x.sid === sid);
    if (!c) throw restError({ status: 404, code: 20404 });
    return { ...c };
  }

  async list(f: ListCallsFilter): Promise<TwilioCall[]> {
    this.lists.push(f);
    const b = this.listScript.shift();
    if (b && b !== 'ok') {
      if ('status' in b) throw restError(b);
      throw Object.assign(new Error('network'), { code: b.network });
    }
    return [...this.calls]
      .reverse()
      .filter(
        (c) =>
          (f.to === undefined || c.to === f.to) &&
          (f.from === undefined || c.from === f.from) &&
          (f.startTimeAfter === undefined || (c.startTime !== null && c.startTime >= f.startTimeAfter)),
      )
      .slice(0, f.limit ?? 50)
      .map((c) => ({ ...c }));
  }

  async end(accountSid: string, sid: string): Promise<TwilioCall> {
    this.ends.push(sid);
    const b = this.endScript.shift() ?? 'ok';
    if (b !== 'ok' && 'status' in b) throw restError(b);
    const c = this.calls.find((x) => x.sid === sid);
    if (!c) throw restError({ status: 404, code: 20404 });
    if (['completed', 'canceled', 'busy', 'no-answer', 'failed'].includes(c.status)) {
      throw restError({ status: 400, code: 21220, message: 'Call is not in-progress. Cannot redirect.' });
    }
    c.status = c.status === 'in-progress' ? 'completed' : 'canceled';
    return this.fetch(accountSid, sid);
  }
}

function restError(b: { status: number; code?: number; message?: string }): Error {
  return Object.assign(new Error(b.message ?? `HTTP ${b.status}`), { status: b.status, code: b.code });
}

export function voiceHarness(
  overrides: { maxAttempts?: number; threshold?: number; cps?: number; ledgerMaxEntries?: number } = {},
) {
  const now = () => Date.now();
  const calls = new FakeCalls(now);
  const ledger = new MemorySendLedger(now, overrides.ledgerMaxEntries);
  const publisher = new MemoryPublisher();
  void publisher.start();
  const doNotCall = new Set<string>();
  const metrics = createMetrics({ defaultMetrics: false });
  const builder = new VoiceEnvelopeBuilder(systemClock);
  const routes: Record<string, string> = { 'table-ready': TWIML };
  const cps = overrides.cps ?? 1000;
  const deps: VoiceEgressDeps = {
    clock: systemClock,
    logger: silentLogger,
    metrics,
    builder,
    publisher,
    calls,
    ledger,
    limiter: new RateLimiter({
      account: { ratePerSec: cps, burst: Math.max(1, Math.round(cps)) },
      sender: { ratePerSec: cps, burst: Math.max(1, Math.round(cps)) },
      recipient: { ratePerSec: cps, burst: Math.max(1, Math.round(cps)) },
      clock: systemClock,
    }),
    circuits: new AccountCircuits({
      failureThreshold: overrides.threshold ?? 100,
      resetTimeoutMs: 30_000,
      clock: systemClock,
    }),
    retry: new RetryPolicy({ ...TEST_RETRY, maxAttempts: overrides.maxAttempts ?? 3, random: () => 0.5 }),
    classify: classifySendError,
    validator: new CallValidator({
      phones: new PhoneNormalizer(),
      defaultFrom: CALLER,
      routeTwiml: (name) => routes[name],
      webhookBaseUrl: 'https://hooks.example.com',
    }),
    doNotCall: { isDoNotCall: (_account, number) => doNotCall.has(number) },
    dlq: new DlqWriter(publisher, 'sms.egress.dlq'),
    instanceId: 'this-instance',
    twilioTimeoutMs: 200,
    openAttempts: new OpenAttempts(200 + IN_FLIGHT_GRACE_MS),
  };
  const handler = new VoiceEgressHandler(deps);
  const abort = new AbortController();
  const context = (offset = 0): EgressContext => ({
    topic: 'sms.egress',
    partition: 0,
    offset: String(offset),
    heartbeat: async () => undefined,
    signal: abort.signal,
  });
  return { deps, handler, calls, ledger, publisher, doNotCall, metrics, builder, context, abort };
}

export function callRequest(
  builder: VoiceEnvelopeBuilder,
  data: Partial<EventOf<'voice.call.requested'>['data']> = {},
): EventOf<'voice.call.requested'> {
  const full = { to: ALICE, twiml: TWIML, ...data };
  return builder.build('voice.call.requested', { accountSid: ACCOUNT, subject: full.to, data: full });
}

export function endRequest(
  builder: VoiceEnvelopeBuilder,
  data: EventOf<'voice.call.end_requested'>['data'],
): EventOf<'voice.call.end_requested'> {
  return builder.build('voice.call.end_requested', { accountSid: ACCOUNT, subject: ALICE, data });
}

/** Voice outcomes the handler published. */
export function voiceOutcomes(p: MemoryPublisher) {
  return p.events.filter((e) => e.type.startsWith('voice.call.'));
}
