import {
  ConversationsRestError,
  type ConversationsRest,
  type ParticipantConversation,
} from '../../../../src/twilio/conversations/conversations-rest';

/** An in-memory ConversationsRest whose calls can be made to fail with Twilio-like errors. */
export class FakeRest implements ConversationsRest {
  readonly calls: string[] = [];
  readonly memberships: ParticipantConversation[] = [];
  readonly messages: {
    conversationSid: string;
    author: string;
    body?: string;
    mediaSid?: string;
    attributes?: string;
  }[] = [];
  readonly uploads: { size: number; contentType: string; filename?: string | undefined }[] = [];
  failures: ConversationsRestError[] = [];
  private seq = 0;

  static error(status: number | undefined, code?: number): ConversationsRestError {
    return new ConversationsRestError(`fake ${status}`, status, code);
  }

  private maybeFail(): void {
    const f = this.failures.shift();
    if (f) throw f;
  }

  async addParticipant(conversationSid: string, identity: string): Promise<{ participantSid: string }> {
    this.calls.push(`add ${conversationSid} ${identity}`);
    this.maybeFail();
    const participantSid = 'MB' + String(++this.seq).padStart(32, '0');
    this.memberships.push({ conversationSid, participantSid, state: 'active' });
    return { participantSid };
  }

  async removeParticipant(conversationSid: string, participantSid: string): Promise<void> {
    this.calls.push(`remove ${conversationSid} ${participantSid}`);
    this.maybeFail();
    const i = this.memberships.findIndex((m) => m.participantSid === participantSid);
    if (i >= 0) this.memberships.splice(i, 1);
  }

  async participantConversations(identity: string): Promise<ParticipantConversation[]> {
    this.calls.push(`list ${identity}`);
    this.maybeFail();
    return this.memberships.map((m) => ({ ...m }));
  }

  async createMessage(
    conversationSid: string,
    message: { author: string; body?: string; mediaSid?: string; attributes?: string },
  ): Promise<{ messageSid: string; index: number }> {
    this.calls.push(`message ${conversationSid}`);
    this.maybeFail();
    this.messages.push({ conversationSid, ...message });
    return { messageSid: 'IM' + String(this.messages.length).padStart(32, '0'), index: this.messages.length - 1 };
  }

  async uploadMedia(bytes: Uint8Array, contentType: string, filename?: string): Promise<string> {
    this.calls.push('upload');
    this.maybeFail();
    this.uploads.push({ size: bytes.length, contentType, filename });
    return 'ME' + String(this.uploads.length).padStart(32, '0');
  }
}
