/**
 * Twilio resource SIDs: two letters naming the resource, then 32 hex digits. A SID from a webhook is checked
 * against its pattern before it is used in a URL, a key or an event, so `../` or `?` never reach a path.
 */
export const SID_PREFIX = {
  account: 'AC',
  conversation: 'CH',
  conversationMessage: 'IM',
  participant: 'MB',
  media: 'ME',
} as const;

const HEX32 = /^[0-9a-fA-F]{32}$/;

export function isSid(value: string, prefix: string): boolean {
  return value.length === 34 && value.startsWith(prefix) && HEX32.test(value.slice(2));
}
