import { EnvelopeValidationError, type SmsEnvelopeBuilder } from '../../envelope';
import { isRetriable } from '../../errors';
import type { EventPublisherPort } from '../../connector/event-publisher-port';
import { inSpan, SpanKind, type Logger, type Metrics } from '../../observability';
import { NO_ERROR_CODE } from '../../observability/metrics';
import { sleep, type Clock } from '../../common/clock';
import type { ConversationMessage } from './conversations-adapter';
import { RecentMap } from '../../common/recent-map';

/**
 * Turns one Conversations message into an `sms.inbound.received` envelope and
 * publishes it, once: the socket path and the `onMessageAdded` webhook share
 * this, so a message that arrives both ways reaches Kafka one time. Our own
 * replies (authored by the connector's identity) are never ingested. Kafka
 * outages are waited out (retriable errors retry with back-off until
 * stopped); an envelope that cannot be valid is logged and skipped, because
 * one poisoned message must not hold up its conversation forever.
 */
export type IngestOutcome = 'published' | 'duplicate' | 'own' | 'invalid';

export class StoppedError extends Error {
  override readonly name = 'StoppedError';
}

export interface InboundMessagePublisherOptions {
  publisher: EventPublisherPort;
  builder: SmsEnvelopeBuilder;
  accountSid: string;
  serviceSid: string;
  /** Authors whose messages are ours (the identity, plus any configured). */
  ownAuthors: readonly string[];
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Twilio media host for the service (media URLs need API credentials to fetch). */
  mediaBaseUrl?: string;
  retry?: { initialMs: number; maxMs: number };
  /** Message SIDs remembered for dedup: at most this many, at least the newest half. Default 10000. */
  dedupCapacity?: number;
}

export class InboundMessagePublisher {
  private readonly recent: RecentMap<true>;
  private readonly inflight = new Map<string, Promise<IngestOutcome>>();
  private readonly own: ReadonlySet<string>;
  private readonly retry: { initialMs: number; maxMs: number };

  constructor(private readonly o: InboundMessagePublisherOptions) {
    this.recent = new RecentMap({ maxEntries: o.dedupCapacity ?? 10_000 });
    this.own = new Set(o.ownAuthors);
    this.retry = o.retry ?? { initialMs: 100, maxMs: 5000 };
  }

  /** True when this SID was published (or is being published) by this process. */
  seen(messageSid: string): boolean {
    return this.recent.has(messageSid) || this.inflight.has(messageSid);
  }

  /**
   * Publishes `m` unless it is a repeat or ours; resolves after Kafka
   * acknowledged. Rejects with StoppedError when `signal` aborts first.
   */
  ingest(m: ConversationMessage, signal: AbortSignal): Promise<IngestOutcome> {
    if (this.recent.has(m.messageSid)) return this.duplicate();
    const running = this.inflight.get(m.messageSid);
    if (running) {
      return running.then(
        (r) => (r === 'published' ? this.duplicate() : r),
        // The other caller gave up (its deadline, not ours): publish it ourselves.
        (err: unknown) => {
          if (err instanceof StoppedError && !signal.aborted) return this.ingest(m, signal);
          throw err;
        },
      );
    }
    if (m.author === null || this.own.has(m.author)) return Promise.resolve('own');
    // A trace per message: messageAdded → publish (the producer span, ended by Kafka's ack).
    const p = inSpan(
      'conversations messageAdded',
      {
        kind: SpanKind.CONSUMER,
        attributes: { 'twilio.conversation.sid': m.conversationSid, 'twilio.message.sid': m.messageSid },
      },
      async (span) => {
        const outcome = await this.publish(m, signal);
        span.setAttribute('ingress.outcome', outcome);
        return outcome;
      },
    ).finally(() => this.inflight.delete(m.messageSid));
    this.inflight.set(m.messageSid, p);
    return p;
  }

  private duplicate(): Promise<IngestOutcome> {
    this.o.metrics.duplicatesSuppressed.inc({ route: 'conversations' });
    return Promise.resolve('duplicate');
  }

  private async publish(m: ConversationMessage, signal: AbortSignal): Promise<IngestOutcome> {
    const ids = { conversationSid: m.conversationSid, messageSid: m.messageSid, index: m.index };
    let envelope;
    try {
      envelope = this.o.builder.inboundFromConversation({
        accountSid: this.o.accountSid,
        conversationSid: m.conversationSid,
        messageSid: m.messageSid,
        index: m.index,
        author: m.author ?? '',
        body: m.body,
        media: m.media.map((x) => ({ url: this.mediaUrl(x.sid), contentType: x.contentType })),
        ...(m.dateCreated ? { dateCreated: m.dateCreated } : {}),
        ...(m.participantSid ? { participantSid: m.participantSid } : {}),
        ...(m.attributes !== undefined ? { attributes: m.attributes } : {}),
      });
    } catch (err) {
      if (!(err instanceof EnvelopeValidationError)) throw err;
      this.o.metrics.errors.inc({ error_type: err.code, error_code: NO_ERROR_CODE });
      this.o.logger.error(
        { ...ids, fields: err.fields.map((f) => f.path) },
        'Conversations message cannot become a valid envelope; skipped',
      );
      return 'invalid';
    }
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new StoppedError('stopped before the message was published');
      try {
        await this.o.publisher.publish(envelope);
        this.recent.set(m.messageSid, true);
        this.o.metrics.messagesReceived.inc({ type: envelope.type, channel: 'conversations' });
        return 'published';
      } catch (err) {
        if (!isRetriable(err)) {
          this.o.metrics.errors.inc({ error_type: errorType(err), error_code: NO_ERROR_CODE });
          this.o.logger.error({ err, ...ids }, 'Conversations message was refused by the publisher; skipped');
          return 'invalid';
        }
        if (attempt === 1 || attempt % 20 === 0) {
          this.o.logger.warn(
            { err, ...ids, attempt },
            'Kafka unavailable; holding the Conversations message and retrying',
          );
        }
        const delay = Math.min(this.retry.initialMs * 2 ** (attempt - 1), this.retry.maxMs);
        // An abort ends the wait early; the loop then reports StoppedError.
        await sleep(this.o.clock, delay, signal).catch(() => undefined);
      }
    }
  }

  private mediaUrl(mediaSid: string): string {
    const base = this.o.mediaBaseUrl ?? 'https://mcs.us1.twilio.com';
    return `${base}/v1/Services/${this.o.serviceSid}/Media/${mediaSid}`;
  }
}

function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'IE_INTERNAL';
}
