export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __IE_BROKER__?: { stop(): Promise<unknown> } }).__IE_BROKER__?.stop();
}
