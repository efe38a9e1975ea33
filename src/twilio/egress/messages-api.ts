import type { AppConfig, TwilioAccount } from '../../config';
import { createTwilioRestClient } from '../rest/rest-client';
import { keepRetryAfter } from './retry-after-hook';
import { TwilioMessagesAdapter } from './twilio-messages-adapter';
import type { ListMessagesFilter, TwilioMessage, TwilioMessagesPort } from './twilio-messages-port';

/**
 * Message lookup for the library API and the CLI: one message by SID, or the
 * account's messages filtered by recipient, sender and sent date, newest
 * first (Twilio's own filters; pages are followed up to `limit`).
 */
export interface MessagesApi {
  lookup(sid: string, accountSid?: string): Promise<TwilioMessage>;
  list(filter?: Partial<ListMessagesFilter>): Promise<TwilioMessage[]>;
}

export function messagesApi(port: TwilioMessagesPort, defaultAccountSid: string): MessagesApi {
  return {
    lookup: (sid, accountSid) => port.fetch(accountSid ?? defaultAccountSid, sid),
    list: (filter = {}) => port.list({ ...filter, accountSid: filter.accountSid ?? defaultAccountSid }),
  };
}

/** The messages API on the official SDK, for the account, with the configured base URL and timeout. */
export function createMessagesApi(config: Pick<AppConfig, 'twilio'>, account: TwilioAccount): MessagesApi {
  const t = config.twilio;
  const client = createTwilioRestClient({
    accountSid: account.sid,
    authToken: account.authToken,
    apiBaseUrl: t.apiBaseUrl,
    timeoutMs: t.timeoutMs,
  });
  keepRetryAfter(client);
  return messagesApi(new TwilioMessagesAdapter(client), account.sid);
}
