import { createMessage, type CreateDeps } from './create-message';
import type { SimMessage } from './message';
import type { TwilioErrorBody } from './twilio-errors';
import { readTwiml, type TwimlVerb } from './twiml-reader';

/** The inbound text a messaging webhook answered. */
export interface RepliedTo {
  from: string;
  to: string;
}

export interface Replies {
  /** One outbound-reply message per `<Message>` Twilio accepted, in document order. */
  messages: SimMessage[];
  /** Each `<Message>` Twilio refused, with the error it would log (an opted-out sender, an empty body, …). */
  refused: TwilioErrorBody[];
}

const NONE: Replies = { messages: [], refused: [] };

/**
 * What Twilio does with a messaging webhook's TwiML answer: every `<Message>`
 * verb becomes a message sent back (direction `outbound-reply`), by default
 * from the number that was texted to the sender, through the same checks as
 * a REST create (opt-out list, body and media rules). The body is the verb's
 * text or its `<Body>` noun; `<Media>` nouns add media. An answer that is not
 * TwiML, or has no `<Message>`, sends nothing.
 */
export function repliesFromTwiml(answer: string | null, repliedTo: RepliedTo, depsFor: () => CreateDeps): Replies {
  if (answer === null || !answer.includes('<Message')) return NONE;
  const read = readTwiml(answer);
  if (!read.ok) return NONE;
  const out: Replies = { messages: [], refused: [] };
  for (const verb of read.verbs) {
    if (verb.name !== 'Message') continue;
    const created = createMessage(formOf(verb, repliedTo), depsFor());
    if (created.ok) out.messages.push({ ...created.message, direction: 'outbound-reply' });
    else out.refused.push(created.error);
  }
  return out;
}

function formOf(verb: TwimlVerb, repliedTo: RepliedTo): URLSearchParams {
  const form = new URLSearchParams();
  form.set('To', verb.attrs.to ?? repliedTo.from);
  form.set('From', verb.attrs.from ?? repliedTo.to);
  const body = verb.children.find((c) => c.name === 'Body');
  form.set('Body', body ? body.text : verb.text);
  for (const media of verb.children.filter((c) => c.name === 'Media')) form.append('MediaUrl', media.text);
  if (verb.attrs.statusCallback) form.set('StatusCallback', verb.attrs.statusCallback);
  return form;
}
