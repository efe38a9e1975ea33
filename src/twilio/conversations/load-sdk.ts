/**
 * Loads `@twilio/conversations` on first use instead of at start-up, and
 * undoes the one global change of its bundled core-js that costs us.
 *
 * The SDK pulls in core-js, which on Node 20 (no native `JSON.rawJSON`)
 * replaces `JSON.stringify` for the whole process with a polyfill about 3×
 * slower; every envelope, log line and HTTP reply goes through it. Node's own
 * `JSON.stringify` is correct for everything the SDK and we serialise (only
 * core-js's raw-JSON values need the polyfill, and nothing here makes them),
 * so the native one is put back. A service with Conversations disabled never
 * loads the SDK at all (it is also the largest part of start-up time).
 */
type ConversationsSdk = typeof import('@twilio/conversations');

let loaded: ConversationsSdk | undefined;

export function conversationsSdk(): ConversationsSdk {
  if (loaded) return loaded;
  const nativeStringify = JSON.stringify;
  try {
    loaded = require('@twilio/conversations') as ConversationsSdk; // eslint-disable-line @typescript-eslint/no-require-imports
  } finally {
    if (JSON.stringify !== nativeStringify) JSON.stringify = nativeStringify;
  }
  return loaded;
}
