import type http from 'node:http';
import type twilio from 'twilio';
import type {
  MessageInstance,
  MessageListInstance,
  MessageListInstanceCreateOptions,
} from 'twilio/lib/rest/api/v2010/account/message';
import type {
  CreateMessageParams,
  ListMessagesFilter,
  TwilioMessage,
  TwilioMessagesPort,
} from './twilio-messages-port';

/**
 * TwilioMessagesPort on the official SDK client (built by
 * createTwilioRestClient: our timeout, its retries off). Calls go to
 * `accounts(sid)` so subaccounts work with the main credentials.
 */
export class TwilioMessagesAdapter implements TwilioMessagesPort {
  // The SDK builds a new context object graph on every `accounts(sid).messages`; reuse one per account.
  private readonly lists = new Map<string, MessageListInstance>();

  constructor(private readonly client: twilio.Twilio) {}

  private messages(accountSid: string): MessageListInstance {
    let list = this.lists.get(accountSid);
    if (!list) {
      list = this.client.api.v2010.accounts(accountSid).messages;
      this.lists.set(accountSid, list);
    }
    return list;
  }

  async create(p: CreateMessageParams): Promise<TwilioMessage> {
    const opts: MessageListInstanceCreateOptions = { to: p.to };
    if (p.from !== undefined) opts.from = p.from;
    if (p.messagingServiceSid !== undefined) opts.messagingServiceSid = p.messagingServiceSid;
    if (p.body !== undefined) opts.body = p.body;
    if (p.mediaUrls !== undefined && p.mediaUrls.length > 0) opts.mediaUrl = [...p.mediaUrls];
    if (p.statusCallback !== undefined) opts.statusCallback = p.statusCallback;
    if (p.sendAt !== undefined) {
      opts.scheduleType = 'fixed';
      opts.sendAt = p.sendAt;
    }
    if (p.validityPeriodSecs !== undefined) opts.validityPeriod = p.validityPeriodSecs;
    if (p.smartEncoded !== undefined) opts.smartEncoded = p.smartEncoded;
    return toMessage(await this.messages(p.accountSid).create(opts));
  }

  async fetch(accountSid: string, sid: string): Promise<TwilioMessage> {
    return toMessage(await this.messages(accountSid)(sid).fetch());
  }

  async list(f: ListMessagesFilter): Promise<TwilioMessage[]> {
    const limit = f.limit ?? 50;
    const list = await this.messages(f.accountSid).list({
      ...(f.to !== undefined ? { to: f.to } : {}),
      ...(f.from !== undefined ? { from: f.from } : {}),
      ...(f.dateSentAfter !== undefined ? { dateSentAfter: f.dateSentAfter } : {}),
      ...(f.dateSentBefore !== undefined ? { dateSentBefore: f.dateSentBefore } : {}),
      limit,
      pageSize: f.pageSize ?? Math.min(limit, 1000),
    });
    return list.map(toMessage);
  }

  async cancel(accountSid: string, sid: string): Promise<TwilioMessage> {
    return toMessage(await this.messages(accountSid)(sid).update({ status: 'canceled' }));
  }
}

function toMessage(m: MessageInstance): TwilioMessage {
  return {
    sid: m.sid,
    accountSid: m.accountSid,
    to: m.to,
    from: m.from ?? null,
    body: m.body ?? '',
    status: m.status,
    direction: m.direction,
    numSegments: Number(m.numSegments ?? 0) || 0,
    numMedia: Number(m.numMedia ?? 0) || 0,
    messagingServiceSid: m.messagingServiceSid ?? null,
    errorCode: m.errorCode ?? null,
    dateCreated: m.dateCreated ?? null,
    dateSent: m.dateSent ?? null,
  };
}

/**
 * The SDK's RequestClient opens at most 20 sockets per host, which caps
 * throughput at 20 / latency (400 sends/s at 50 ms). Egress keeps up to
 * EGRESS_CONCURRENCY sends in flight, so the agents get that many sockets.
 */
export function widenSocketPool(client: twilio.Twilio, maxSockets: number): void {
  const httpClient = client.httpClient as { axios?: { defaults?: { httpAgent?: unknown; httpsAgent?: unknown } } };
  const defaults = httpClient.axios?.defaults;
  for (const agent of [defaults?.httpAgent, defaults?.httpsAgent]) {
    if (agent && typeof agent === 'object' && 'maxSockets' in agent) {
      const a = agent as http.Agent & { maxTotalSockets?: number };
      a.maxSockets = Math.max(a.maxSockets, maxSockets);
      if (typeof a.maxTotalSockets === 'number') a.maxTotalSockets = Math.max(a.maxTotalSockets, maxSockets);
    }
  }
}
