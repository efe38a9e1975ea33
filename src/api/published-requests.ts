import type { Clock } from '../common/clock';
import { RecentMap } from '../common/recent-map';

/** What this instance remembers about a request it published (for cancel and look-ups). */
export interface PublishedRequest {
  accountSid: string;
  /** The envelope's subject (its Kafka key): the recipient, or the request id for a bulk request. */
  subject: string;
  bulk: boolean;
  publishedAt: string;
}

/** Requests published through this instance's API, remembered for a day (bounded). */
export class PublishedRequests {
  private readonly map: RecentMap<PublishedRequest>;

  constructor(clock: Pick<Clock, 'now'>, maxEntries = 200_000) {
    this.map = new RecentMap({ maxEntries, ttlMs: 24 * 3600_000, clock });
  }

  remember(requestId: string, request: PublishedRequest): void {
    this.map.set(requestId, request);
  }

  get(requestId: string): PublishedRequest | undefined {
    return this.map.get(requestId);
  }
}
