import { SmsEnvelopeBuilder, type EventOf } from '../../../../src/envelope';
import { AccountCircuits } from '../../../../src/twilio/egress/account-circuits';
import type { SendFailure } from '../../../../src/twilio/egress/delivery';
import { IN_FLIGHT_GRACE_MS, OpenAttempts } from '../../../../src/twilio/egress/attempt-over';
import { DlqWriter } from '../../../../src/egress/dlq-writer';
import type { EgressDeps } from '../../../../src/twilio/egress/egress-deps';
import { classifySendError } from '../../../../src/twilio/egress/classify-send-error';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { SmsOutboundValidator } from '../../../../src/twilio/egress/sms-outbound-validator';
import { TwilioEgressHandler } from '../../../../src/twilio/egress/twilio-egress-handler';
import type {
  CreateMessageParams,
  ListMessagesFilter,
  TwilioMessage,
  TwilioMessagesPort,
} from '../../../../src/twilio/egress/twilio-messages-port';
import { silentLogger } from '../../../../src/observability';
import { RateLimiter, RetryPolicy, systemClock, TEST_RETRY } from '../../../../src/resilience';
import type { EgressContext } from '../../../../src/connector/connector';
import { PhoneNormalizer } from '../../../../src/sms/phone';
import { TemplateRegistry } from '../../../../src/sms/templates';
import { SmsValidator } from '../../../../src/sms/validate';
import { MemoryPublisher } from '../../../helpers/memory-publisher';

export const ACCOUNT = 'AC' + 'a'.repeat(32);
export const SERVICE = 'MG' + 'b'.repeat(32);
export const SENDER = '+14155550100';
export const ALICE = '+14155550123';
export const BOB = '+14155550124';

/** What the fake does on one create call. */
export type CreateBehaviour =
  | 'ok'
  | { status: number; code?: number; message?: string; retryAfterSeconds?: number }
  /**
   * The call fails on the network. `created`: Twilio created the message before the failure; `createdAfterMs`:
   * Twilio executes the request that long after the failure our side saw (it was sent, then held up on the way or
   * at Twilio), as a late create of an ambiguous attempt.
   */
  | { network: string; created: boolean; createdAfterMs?: number };

/**
 * A fake Messages API: keeps created messages, answers lists newest first,
 * and plays scripted failures per create call (including timeouts after the
 * message was created: the ambiguous case).
 */
export class FakeTwilio implements TwilioMessagesPort {
  readonly messages: TwilioMessage[] = [];
  readonly creates: CreateMessageParams[] = [];
  readonly lists: ListMessagesFilter[] = [];
  readonly cancels: string[] = [];
  script: CreateBehaviour[] = [];
  listFailures: CreateBehaviour[] = [];
  cancelScript: CreateBehaviour[] = [];
  private n = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async create(p: CreateMessageParams): Promise<TwilioMessage> {
    this.creates.push(p);
    const b = this.script.shift() ?? 'ok';
    if (b !== 'ok' && 'status' in b) throw restError(b);
    const m: TwilioMessage = {
      sid: 'SM' + (++this.n).toString(16).padStart(32, '0'),
      accountSid: p.accountSid,
      to: p.to,
      from: p.from ?? (p.messagingServiceSid ? SENDER : null),
      body: p.body ?? '',
      status: p.sendAt ? 'scheduled' : p.messagingServiceSid ? 'accepted' : 'queued',
      direction: 'outbound-api',
      numSegments: 1,
      numMedia: p.mediaUrls?.length ?? 0,
      messagingServiceSid: p.messagingServiceSid ?? null,
      errorCode: null,
      dateCreated: new Date(this.now()),
      dateSent: p.sendAt ? null : new Date(this.now()),
    };
    if (b !== 'ok' && 'network' in b) {
      if (b.created) this.messages.push(m);
      else if (b.createdAfterMs !== undefined) {
        setTimeout(() => {
          m.dateCreated = new Date(this.now());
          m.dateSent = m.dateSent === null ? null : new Date(this.now());
          this.messages.push(m);
        }, b.createdAfterMs);
      }
      throw Object.assign(new Error(`network ${b.network}`), { code: b.network });
    }
    this.messages.push(m);
    return m;
  }

  async fetch(_accountSid: string, sid: string): Promise<TwilioMessage> {
    const m = this.messages.find((x) => x.sid === sid);
    if (!m) throw restError({ status: 404, code: 20404 });
    return m;
  }

  async list(f: ListMessagesFilter): Promise<TwilioMessage[]> {
    this.lists.push(f);
    const b = this.listFailures.shift();
    if (b && b !== 'ok') {
      if ('status' in b) throw restError(b);
      throw Object.assign(new Error('network'), { code: b.network });
    }
    return [...this.messages]
      .reverse()
      .filter(
        (m) =>
          (f.to === undefined || m.to === f.to) &&
          (f.dateSentAfter === undefined || (m.dateSent !== null && m.dateSent >= f.dateSentAfter)),
      )
      .slice(0, f.limit ?? 50);
  }

  async cancel(_accountSid: string, sid: string): Promise<TwilioMessage> {
    this.cancels.push(sid);
    const b = this.cancelScript.shift() ?? 'ok';
    if (b !== 'ok' && 'status' in b) throw restError(b);
    const m = await this.fetch(_accountSid, sid);
    m.status = 'canceled';
    return m;
  }
}

function restError(b: { status: number; code?: number; message?: string; retryAfterSeconds?: number }): Error {
  return Object.assign(new Error(b.message ?? `HTTP ${b.status}`), {
    status: b.status,
    code: b.code,
    details: b.retryAfterSeconds === undefined ? undefined : { retry_after_seconds: b.retryAfterSeconds },
  });
}

export interface Harness {
  deps: EgressDeps;
  handler: TwilioEgressHandler;
  twilio: FakeTwilio;
  ledger: MemorySendLedger;
  publisher: MemoryPublisher;
  optedOut: Set<string>;
  builder: SmsEnvelopeBuilder;
  context: (offset?: number) => EgressContext;
  abort: AbortController;
}

export function harness(
  overrides: Partial<EgressDeps> & {
    threshold?: number;
    maxAttempts?: number;
    classify?: (e: unknown) => SendFailure;
  } = {},
): Harness {
  const now = () => Date.now();
  const twilio = (overrides.twilio as FakeTwilio | undefined) ?? new FakeTwilio(now);
  const ledger = (overrides.ledger as MemorySendLedger | undefined) ?? new MemorySendLedger(now);
  const publisher = new MemoryPublisher();
  void publisher.start();
  const optedOut = new Set<string>();
  const builder = new SmsEnvelopeBuilder(systemClock);
  const sms = new SmsValidator({ maxSegments: 10 });
  const templates = new TemplateRegistry({ validator: sms }, [
    { name: 'welcome', body: 'Hello {{name}}, welcome!', variables: ['name'] },
  ]);
  const abort = new AbortController();
  const deps: EgressDeps = {
    clock: systemClock,
    logger: silentLogger,
    builder,
    publisher,
    topics: {
      inbound: 'in',
      status: 'status',
      consent: 'consent',
      egress: 'sms.egress',
      egressUrgent: 'sms.egress.urgent',
      egressBulk: 'sms.egress.bulk',
      outcomes: 'out',
      egressDlq: 'sms.egress.dlq',
      voiceCalls: 'voice.calls',
      voiceRecordings: 'voice.recordings',
    },
    twilio,
    ledger,
    limiter: new RateLimiter({
      account: { ratePerSec: 1000, burst: 1000 },
      sender: { ratePerSec: 1000, burst: 1000 },
      recipient: { ratePerSec: 1000, burst: 1000 },
      clock: systemClock,
    }),
    circuits: new AccountCircuits({
      failureThreshold: overrides.threshold ?? 100,
      resetTimeoutMs: 30_000,
      clock: systemClock,
    }),
    retry: new RetryPolicy({ ...TEST_RETRY, maxAttempts: overrides.maxAttempts ?? 3, random: () => 0.5 }),
    classify: overrides.classify ?? classifySendError,
    validator: new SmsOutboundValidator({
      phones: new PhoneNormalizer(),
      sms,
      templates,
      defaultFrom: SENDER,
      statusCallbackUrl: 'https://hooks.example.com/status',
    }),
    consent: { isOptedOut: (q) => optedOut.has(q.phoneNumber), isDoNotCall: () => false },
    dlq: new DlqWriter(publisher, 'sms.egress.dlq'),
    instanceId: 'this-instance',
    twilioTimeoutMs: 2_000,
    openAttempts: new OpenAttempts(((overrides.twilioTimeoutMs as number | undefined) ?? 2_000) + IN_FLIGHT_GRACE_MS),
    ...overrides,
  };
  const handler = new TwilioEgressHandler(deps);
  return {
    deps,
    handler,
    twilio,
    ledger,
    publisher,
    optedOut,
    builder,
    abort,
    context: (offset = 0) => ({
      topic: 'sms.egress',
      partition: 0,
      offset: String(offset),
      heartbeat: async () => undefined,
      signal: abort.signal,
    }),
  };
}

export function request(
  builder: SmsEnvelopeBuilder,
  data: EventOf<'sms.outbound.requested'>['data'],
  tenant: { messagingServiceSid?: string } = {},
): EventOf<'sms.outbound.requested'> {
  return builder.build('sms.outbound.requested', {
    accountSid: ACCOUNT,
    messagingServiceSid: tenant.messagingServiceSid,
    subject: data.to ?? data.conversationSid ?? 'bulk',
    data,
  });
}

/** Outcome events the handler published, by type. */
export function outcomes(p: MemoryPublisher) {
  return p.events.filter((e) => e.type.startsWith('sms.outbound.'));
}
