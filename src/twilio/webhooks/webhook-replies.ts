import type { FastifyReply } from 'fastify';

/** Twilio sends no reply SMS for an empty Response; anything else would be texted back. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** Seconds Twilio (or a proxy honouring it) should wait before retrying a 503. */
export const RETRY_AFTER_SECS = '2';

/**
 * A refusal with a short machine-readable code and a human reason. Reasons
 * name parameters, never their values (numbers and bodies stay out of replies).
 */
export function refuse(reply: FastifyReply, status: number, error: string, reason: string): FastifyReply {
  if (status === 503) reply.header('retry-after', RETRY_AFTER_SECS);
  return reply.code(status).send({ error, reason });
}
