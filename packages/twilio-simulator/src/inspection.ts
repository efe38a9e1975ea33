import { viewOf, type MessageStatus, type SimMessageView } from './message';
import type { BoundedLog } from './bounded-log';
import type { MessageFilter, MessageStore } from './message-store';
import type { OptOutEntry, OptOutList } from './opt-out';
import type { ReplayBook, ReplayMiss } from './recorder';
import type { RestOperation } from './faults';
import type { RestRequestLogEntry } from './rest-api';
import type { WebhookDelivery, WebhookKind } from './webhook-sender';

/**
 * What tests and the sandbox ask the simulator: what was sent, to whom, how
 * many times the same (to, body) was accepted, which requests were refused or
 * faulted, which webhooks went out and how they were answered. Every answer is
 * a copy; nothing here changes the simulator.
 */
export interface SimulatorStats {
  /** Messages kept (see maxStoredMessages); counts below cover kept ones unless said otherwise. */
  messages: number;
  /** Messages dropped from memory beyond maxStoredMessages. */
  evicted: number;
  outbound: number;
  /** Outbound API messages ever accepted (exact, evicted messages included). */
  outboundCreated: number;
  inbound: number;
  byStatus: Partial<Record<MessageStatus, number>>;
  /** Extra sends of an already-sent (to, body), summed (exact, evicted messages included). */
  duplicates: number;
  /** REST requests ever answered. */
  requests: number;
  /** Error answers by Twilio error code. */
  rejectedByCode: Record<string, number>;
  /** Requests that got a fault (including latency). */
  faulted: number;
  webhooks: number;
  webhooksFailed: number;
}

export interface InspectionSources {
  store: MessageStore;
  optOuts: OptOutList;
  requestLog: BoundedLog<RestRequestLogEntry> | undefined;
  webhooks: BoundedLog<WebhookDelivery>;
  replay: ReplayBook | undefined;
}

export class SimulatorInspector {
  constructor(private readonly s: InspectionSources) {}

  /** Every message (outbound and inbound) in creation order. */
  messages(filter: MessageFilter = {}): SimMessageView[] {
    return this.s.store.filter(filter).map(viewOf);
  }

  message(sid: string): SimMessageView | undefined {
    const m = this.s.store.find(sid);
    return m ? viewOf(m) : undefined;
  }

  /** Outbound messages Twilio accepted (a refused create is not a send). */
  sent(filter: Omit<MessageFilter, 'direction'> = {}): SimMessageView[] {
    return this.messages({ ...filter, direction: 'outbound-api' });
  }

  /** Messages sent back for the `<Message>` verbs of messaging webhooks' TwiML answers. */
  replies(filter: Omit<MessageFilter, 'direction'> = {}): SimMessageView[] {
    return this.messages({ ...filter, direction: 'outbound-reply' });
  }

  sentTo(to: string): SimMessageView[] {
    return this.sent({ to });
  }

  /** Distinct recipients of accepted outbound messages. */
  recipients(): string[] {
    return [...new Set(this.s.store.filter({ direction: 'outbound-api' }).map((m) => m.to))];
  }

  timesSent(to: string, body: string): number {
    return this.s.store.timesSent(to, body);
  }

  duplicates(): { to: string; body: string; count: number }[] {
    return this.s.store.duplicates();
  }

  duplicateCount(): number {
    return this.s.store.duplicateCount();
  }

  requests(filter: { operation?: RestOperation; status?: number } = {}): RestRequestLogEntry[] {
    return (this.s.requestLog?.items() ?? [])
      .filter(
        (r) =>
          (filter.operation === undefined || r.operation === filter.operation) &&
          (filter.status === undefined || r.status === filter.status),
      )
      .map((r) => ({ ...r }));
  }

  webhooks(filter: { kind?: WebhookKind; messageSid?: string } = {}): WebhookDelivery[] {
    return this.s.webhooks
      .items()
      .filter(
        (w) =>
          (filter.kind === undefined || w.kind === filter.kind) &&
          (filter.messageSid === undefined || w.messageSid === filter.messageSid),
      )
      .map((w) => structuredClone(w));
  }

  statusCallbacks(messageSid?: string): WebhookDelivery[] {
    return this.webhooks(
      messageSid === undefined ? { kind: 'status-callback' } : { kind: 'status-callback', messageSid },
    );
  }

  optOuts(): OptOutEntry[] {
    return this.s.optOuts.list();
  }

  replay(): { served: number; remaining: number; misses: ReplayMiss[] } | undefined {
    const r = this.s.replay;
    return r ? { served: r.servedCount, remaining: r.remaining, misses: [...r.misses] } : undefined;
  }

  stats(): SimulatorStats {
    const byStatus: Partial<Record<MessageStatus, number>> = {};
    let outbound = 0;
    for (const m of this.s.store.all()) {
      byStatus[m.status] = (byStatus[m.status] ?? 0) + 1;
      if (m.direction === 'outbound-api') outbound += 1;
    }
    const rejectedByCode: Record<string, number> = {};
    let faulted = 0;
    const log = this.s.requestLog?.items() ?? [];
    for (const r of log) {
      if (r.errorCode !== undefined) rejectedByCode[r.errorCode] = (rejectedByCode[r.errorCode] ?? 0) + 1;
      if (r.fault !== undefined) faulted += 1;
    }
    return {
      messages: this.s.store.size,
      evicted: this.s.store.evicted,
      outbound,
      outboundCreated: this.s.store.outboundCreated,
      inbound: this.s.store.size - outbound,
      byStatus,
      duplicates: this.s.store.duplicateCount(),
      requests: this.s.requestLog?.total ?? 0,
      rejectedByCode,
      faulted,
      webhooks: this.s.webhooks.total,
      webhooksFailed: this.s.webhooks.items().filter((w) => !w.delivered).length,
    };
  }
}
