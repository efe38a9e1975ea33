import type { MessageStatus } from './schema';

/**
 * Where each status sits in a message's life. Callbacks can arrive out of
 * order; a status advances the message only if its rank is above the highest
 * seen so far. Terminal statuses share a rank, except `read` which follows
 * `delivered`.
 */
export const STATUS_RANK: Readonly<Record<MessageStatus, number>> = {
  accepted: 0,
  scheduled: 0,
  receiving: 1,
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  undelivered: 4,
  failed: 4,
  canceled: 4,
  partially_delivered: 4,
  received: 4,
  read: 5,
};

const TERMINAL = new Set<MessageStatus>([
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  'read',
  'received',
  'partially_delivered',
]);

export function isTerminalStatus(status: MessageStatus): boolean {
  return TERMINAL.has(status);
}
