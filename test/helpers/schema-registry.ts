import { LocalSchemaRegistry } from './local-schema-registry';
import { onCleanup } from './cleanup';

/** A local Schema Registry on 127.0.0.1 that stops itself after the test (or file, from beforeAll). */
export async function startLocalRegistry(): Promise<LocalSchemaRegistry> {
  const registry = new LocalSchemaRegistry();
  onCleanup(() => registry.stop());
  await registry.start();
  return registry;
}
