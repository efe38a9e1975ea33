import type { AppConfig } from '../../config';
import { IngressEgressError } from '../../errors';
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

/** The messages API on the official SDK, from the configuration (TWILIO_ACCOUNT_SID, token, base URL, timeout). */
export function createMessagesApi(config: Pick<AppConfig, 'twilio'>): MessagesApi {
  const t = config.twilio;
  if (!t.accountSid || !t.authToken) {
    throw new IngressEgressError(
      'IE_CONFIG_INVALID',
      'looking up messages needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
    );
  }
  const client = createTwilioRestClient({
    accountSid: t.accountSid,
    authToken: t.authToken,
    apiBaseUrl: t.apiBaseUrl,
    timeoutMs: t.timeoutMs,
  });
  keepRetryAfter(client);
  return messagesApi(new TwilioMessagesAdapter(client), t.accountSid);
}
