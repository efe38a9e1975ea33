import type { LocalKafkaBroker } from '../../src/kafka/local-broker';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __IE_BROKER__?: LocalKafkaBroker }).__IE_BROKER__?.stop();
}
