import type { Logger } from '../../observability';
import {
  ConversationsRestError,
  IDENTITY_CONVERSATION_LIMIT,
  PARTICIPANT_EXISTS,
  type ConversationsRest,
} from './conversations-rest';

/**
 * Which conversations the identity is in. The SDK only delivers conversations
 * the identity joined, so the connector adds itself as a participant when
 * Twilio announces a conversation (`onConversationAdded`). An identity may be
 * in at most 1,000 conversations (error 50214): closed ones are left, when
 * drained, and again whenever a join hits the limit.
 */
export type JoinOutcome = 'joined' | 'already' | 'gone';

export class ConversationMembership {
  private readonly participantSids = new Map<string, string>();

  constructor(
    private readonly rest: ConversationsRest,
    private readonly identity: string,
    private readonly logger: Logger,
  ) {}

  /** Adds the identity to the conversation; idempotent. Throws ConversationsRestError (check `retriable`). */
  async join(conversationSid: string): Promise<JoinOutcome> {
    try {
      return await this.add(conversationSid);
    } catch (err) {
      if (!(err instanceof ConversationsRestError) || err.twilioCode !== IDENTITY_CONVERSATION_LIMIT) throw err;
      const left = await this.leaveClosed();
      this.logger.warn({ left }, 'identity reached the Conversations participant limit; left closed conversations');
      if (left === 0) {
        this.logger.error(
          { conversationSid, identity: this.identity },
          'cannot join: the identity is in 1,000 open conversations (Twilio error 50214); close some conversations',
        );
        throw err;
      }
      return this.add(conversationSid);
    }
  }

  /** Removes the identity from the conversation; a conversation already left counts as done. */
  async leave(conversationSid: string): Promise<void> {
    let participantSid = this.participantSids.get(conversationSid);
    if (!participantSid) {
      const mine = await this.rest.participantConversations(this.identity);
      participantSid = mine.find((c) => c.conversationSid === conversationSid)?.participantSid;
    }
    if (!participantSid) return;
    try {
      await this.rest.removeParticipant(conversationSid, participantSid);
    } catch (err) {
      if (!(err instanceof ConversationsRestError) || err.status !== 404) throw err;
    }
    this.participantSids.delete(conversationSid);
  }

  /** Leaves every closed conversation the identity is still in; returns how many. */
  async leaveClosed(): Promise<number> {
    const closed = (await this.rest.participantConversations(this.identity)).filter((c) => c.state === 'closed');
    let left = 0;
    for (const c of closed) {
      try {
        await this.rest.removeParticipant(c.conversationSid, c.participantSid);
        this.participantSids.delete(c.conversationSid);
        left++;
      } catch (err) {
        this.logger.warn({ err, conversationSid: c.conversationSid }, 'could not leave a closed conversation');
      }
    }
    return left;
  }

  private async add(conversationSid: string): Promise<JoinOutcome> {
    try {
      const { participantSid } = await this.rest.addParticipant(conversationSid, this.identity);
      this.participantSids.set(conversationSid, participantSid);
      this.logger.info({ conversationSid }, 'joined conversation');
      return 'joined';
    } catch (err) {
      if (err instanceof ConversationsRestError && err.twilioCode === PARTICIPANT_EXISTS) return 'already';
      if (err instanceof ConversationsRestError && err.status === 404) {
        this.logger.warn({ conversationSid }, 'conversation to join no longer exists');
        return 'gone';
      }
      throw err;
    }
  }
}
