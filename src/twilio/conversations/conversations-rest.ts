import type twilio from 'twilio';
import { IngressEgressError } from '../../errors';
import type { ConversationLifecycleState } from './conversations-adapter';

/**
 * The Conversations REST calls the connector makes (service-scoped, through
 * the official client built by createTwilioRestClient, so tests reach the
 * simulator): join and leave as a participant, find the identity's
 * conversations, post replies, upload reply media.
 */
export interface ParticipantConversation {
  conversationSid: string;
  participantSid: string;
  state: ConversationLifecycleState;
}

export interface ConversationsRest {
  addParticipant(conversationSid: string, identity: string): Promise<{ participantSid: string }>;
  removeParticipant(conversationSid: string, participantSid: string): Promise<void>;
  participantConversations(identity: string): Promise<ParticipantConversation[]>;
  createMessage(
    conversationSid: string,
    message: { author: string; body?: string; mediaSid?: string; attributes?: string },
  ): Promise<{ messageSid: string; index: number }>;
  /** Uploads bytes to the service's media store (MCS); returns the media SID (`ME…`). */
  uploadMedia(bytes: Uint8Array, contentType: string, filename?: string): Promise<string>;
}

/** A failed Conversations REST call: Twilio's status and error code, and whether retrying can help. */
export class ConversationsRestError extends IngressEgressError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly twilioCode: number | undefined,
    cause?: unknown,
  ) {
    super('IE_TWILIO_CONVERSATIONS', message, {
      cause,
      // No status = the request may not have reached Twilio (network, timeout).
      retriable: status === undefined || status === 429 || status >= 500,
      details: { status, twilioCode },
    });
  }
}

export const PARTICIPANT_EXISTS = 50433;
export const IDENTITY_CONVERSATION_LIMIT = 50214;

export interface TwilioConversationsRestOptions {
  client: twilio.Twilio;
  serviceSid: string;
  /** Where media uploads go: https://mcs.us1.twilio.com, or the simulator. */
  mediaBaseUrl: string;
  /** Basic-auth user and password for media uploads (API key or account SID + auth token). */
  mediaAuth: { username: string; password: string };
  timeoutMs: number;
}

export class TwilioConversationsRest implements ConversationsRest {
  constructor(private readonly o: TwilioConversationsRestOptions) {}

  private get service() {
    return this.o.client.conversations.v1.services(this.o.serviceSid);
  }

  addParticipant(conversationSid: string, identity: string): Promise<{ participantSid: string }> {
    return call('add participant', async () => {
      const p = await this.service.conversations(conversationSid).participants.create({ identity });
      return { participantSid: p.sid };
    });
  }

  removeParticipant(conversationSid: string, participantSid: string): Promise<void> {
    return call('remove participant', async () => {
      await this.service.conversations(conversationSid).participants(participantSid).remove();
    });
  }

  participantConversations(identity: string): Promise<ParticipantConversation[]> {
    return call('list participant conversations', async () => {
      const rows = await this.service.participantConversations.list({ identity, pageSize: 100 });
      return rows.map((r) => ({
        conversationSid: r.conversationSid,
        participantSid: r.participantSid,
        state: r.conversationState,
      }));
    });
  }

  createMessage(
    conversationSid: string,
    message: { author: string; body?: string; mediaSid?: string; attributes?: string },
  ): Promise<{ messageSid: string; index: number }> {
    return call('create message', async () => {
      const m = await this.service.conversations(conversationSid).messages.create({
        author: message.author,
        ...(message.body !== undefined ? { body: message.body } : {}),
        ...(message.mediaSid !== undefined ? { mediaSid: message.mediaSid } : {}),
        ...(message.attributes !== undefined ? { attributes: message.attributes } : {}),
      });
      return { messageSid: m.sid, index: m.index };
    });
  }

  async uploadMedia(bytes: Uint8Array, contentType: string, filename?: string): Promise<string> {
    // The twilio client only sends form or JSON bodies; media goes up as raw bytes.
    const url = `${this.o.mediaBaseUrl}/v1/Services/${this.o.serviceSid}/Media`;
    const auth = Buffer.from(`${this.o.mediaAuth.username}:${this.o.mediaAuth.password}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${auth}`,
          'content-type': contentType,
          ...(filename ? { 'content-disposition': `attachment; filename="${filename.replace(/"/g, '')}"` } : {}),
        },
        body: bytes,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      throw new ConversationsRestError('media upload did not complete', undefined, undefined, err);
    }
    const json = (await res.json().catch(() => ({}))) as { sid?: unknown; code?: unknown; message?: unknown };
    if (!res.ok || typeof json.sid !== 'string') {
      throw new ConversationsRestError(
        `media upload refused: ${typeof json.message === 'string' ? json.message : res.status}`,
        res.status,
        typeof json.code === 'number' ? json.code : undefined,
      );
    }
    return json.sid;
  }
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { status?: unknown; code?: unknown; message?: unknown };
    const status = typeof e.status === 'number' ? e.status : undefined;
    const code = typeof e.code === 'number' ? e.code : undefined;
    throw new ConversationsRestError(
      `Conversations REST ${what} failed${status ? ` (${status}${code ? `, error ${code}` : ''})` : ''}`,
      status,
      code,
      err,
    );
  }
}
