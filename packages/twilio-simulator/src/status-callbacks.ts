import type { SimClock } from './clock';
import { API_VERSION, type SimMessage } from './message';
import type { SeededRng } from './rng';
import { isTerminal } from './status-progression';
import type { WebhookDelivery, WebhookSender } from './webhook-sender';

/**
 * Status callbacks for one simulator. Callbacks of one message go out one after
 * the other (Twilio does not promise that, but a test needs a baseline); on
 * request, some are duplicated (same idempotency token, as a Twilio redelivery)
 * or held back and sent after the next one, to exercise consumers.
 */
export interface CallbackChaos {
  /** Chance a callback is delivered twice. */
  duplicateProbability?: number;
  /** Chance a non-final callback is held and sent after the following one. */
  outOfOrderProbability?: number;
}

interface Pending {
  params: Record<string, string>;
  token: string;
}

export interface StatusCallbackDeps {
  clock: SimClock;
  rng: SeededRng;
  sender: WebhookSender;
  authTokenOf: (accountSid: string) => string | undefined;
  onDelivered: (d: WebhookDelivery) => void;
}

/** `RawDlrDoneDate`: the carrier's receipt time as YYMMDDhhmm (UTC). */
export function rawDlrDoneDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

export function statusCallbackParams(m: SimMessage, now: number): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: m.accountSid,
    ApiVersion: API_VERSION,
    From: m.from ?? '',
    MessageSid: m.sid,
    MessageStatus: m.status,
    SmsSid: m.sid,
    SmsStatus: m.status,
    To: m.to,
  };
  if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
  if ((m.status === 'failed' || m.status === 'undelivered') && m.errorCode !== null) {
    params.ErrorCode = String(m.errorCode);
  }
  if (m.status === 'delivered' || m.status === 'undelivered') params.RawDlrDoneDate = rawDlrDoneDate(now);
  return params;
}

export class StatusCallbacks {
  private chaos: Required<CallbackChaos>;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly held = new Map<string, Pending>();

  constructor(
    private readonly deps: StatusCallbackDeps,
    chaos: CallbackChaos = {},
  ) {
    this.chaos = normalize(chaos);
  }

  setChaos(chaos: CallbackChaos): void {
    this.chaos = normalize(chaos);
  }

  /** Called on every status change of a message with a StatusCallback URL. */
  onTransition(m: SimMessage): void {
    if (!m.statusCallback) return;
    const url = m.statusCallback;
    const current: Pending = { params: statusCallbackParams(m, m.dateUpdated), token: this.deps.rng.uuid() };
    const batch: Pending[] = [];
    const held = this.held.get(m.sid);
    if (held) {
      this.held.delete(m.sid);
      batch.push(current, held);
    } else if (!isTerminal(m.status) && this.deps.rng.chance(this.chaos.outOfOrderProbability)) {
      this.held.set(m.sid, current);
      return;
    } else {
      batch.push(current);
    }
    for (const p of [...batch]) if (this.deps.rng.chance(this.chaos.duplicateProbability)) batch.push(p);
    for (const p of batch) this.enqueue(m, url, p);
  }

  /** Messages whose callbacks are still going out. */
  get pending(): number {
    return this.chains.size;
  }

  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  reset(): void {
    this.held.clear();
    this.chains.clear();
  }

  private enqueue(m: SimMessage, url: string, p: Pending): void {
    const authToken = this.deps.authTokenOf(m.accountSid);
    if (authToken === undefined) return;
    const previous = this.chains.get(m.sid) ?? Promise.resolve();
    const next = previous.then(async () => {
      const d = await this.deps.sender.deliver({
        kind: 'status-callback',
        url,
        params: p.params,
        authToken,
        messageSid: m.sid,
        idempotencyToken: p.token,
      });
      this.deps.onDelivered(d);
    });
    const tracked = next.catch(() => undefined);
    this.chains.set(m.sid, tracked);
    void tracked.then(() => {
      if (this.chains.get(m.sid) === tracked) this.chains.delete(m.sid);
    });
  }
}

function normalize(c: CallbackChaos): Required<CallbackChaos> {
  return { duplicateProbability: c.duplicateProbability ?? 0, outOfOrderProbability: c.outOfOrderProbability ?? 0 };
}
