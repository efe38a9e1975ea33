import type { SeededRng } from './rng';
import type { CallbackChaos } from './status-callbacks';
import type { WebhookDelivery, WebhookKind, WebhookSender } from './webhook-sender';

/**
 * Call status callbacks (and the other callbacks a call sends: recording,
 * transcription) for one simulator. Callbacks of one call go out one after
 * the other; with chaos, a status callback is sometimes sent twice (same
 * idempotency token, as a Twilio redelivery) or held back and sent after the
 * next one, so consumers meet the SequenceNumber gaps and repeats Twilio
 * produces.
 */
export interface CallCallbackDeps {
  rng: SeededRng;
  sender: WebhookSender;
  onDelivered: (d: WebhookDelivery) => void;
}

interface Pending {
  kind: WebhookKind;
  url: string;
  params: Record<string, string>;
  token: string;
}

export class CallCallbacks {
  private chaos: Required<CallbackChaos>;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly held = new Map<string, Pending>();

  constructor(
    private readonly deps: CallCallbackDeps,
    chaos: CallbackChaos = {},
  ) {
    this.chaos = {
      duplicateProbability: chaos.duplicateProbability ?? 0,
      outOfOrderProbability: chaos.outOfOrderProbability ?? 0,
    };
  }

  setChaos(chaos: CallbackChaos): void {
    this.chaos = {
      duplicateProbability: chaos.duplicateProbability ?? 0,
      outOfOrderProbability: chaos.outOfOrderProbability ?? 0,
    };
  }

  /** A status callback; `final` ones are never held back and release a held one. */
  status(callSid: string, url: string, params: Record<string, string>, authToken: string, final: boolean): void {
    const current: Pending = { kind: 'call-status', url, params, token: this.deps.rng.uuid() };
    const batch: Pending[] = [];
    const held = this.held.get(callSid);
    if (held) {
      this.held.delete(callSid);
      batch.push(current, held);
    } else if (!final && this.deps.rng.chance(this.chaos.outOfOrderProbability)) {
      this.held.set(callSid, current);
      return;
    } else {
      batch.push(current);
    }
    for (const p of [...batch]) if (this.deps.rng.chance(this.chaos.duplicateProbability)) batch.push(p);
    for (const p of batch) this.enqueue(callSid, p, authToken);
  }

  /** Any other callback of the call (recording, transcription): in order, never duplicated. Resolves once delivered. */
  other(
    callSid: string,
    kind: WebhookKind,
    url: string,
    params: Record<string, string>,
    authToken: string,
  ): Promise<void> {
    return this.enqueue(callSid, { kind, url, params, token: this.deps.rng.uuid() }, authToken);
  }

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

  private enqueue(callSid: string, p: Pending, authToken: string): Promise<void> {
    const previous = this.chains.get(callSid) ?? Promise.resolve();
    const next = previous.then(async () => {
      const d = await this.deps.sender.deliver({
        kind: p.kind,
        url: p.url,
        params: p.params,
        authToken,
        messageSid: callSid,
        idempotencyToken: p.token,
      });
      this.deps.onDelivered(d);
    });
    const tracked = next.catch(() => undefined);
    this.chains.set(callSid, tracked);
    void tracked.then(() => {
      if (this.chains.get(callSid) === tracked) this.chains.delete(callSid);
    });
    return tracked;
  }
}
