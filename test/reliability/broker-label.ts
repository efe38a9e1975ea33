import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness';

/** "Apache Kafka 4.1.1, 1 broker (KRaft)": the version of the jars scripts/kafka.sh fetched. */
export function brokerLabel(brokers: string[]): string {
  let version = '';
  try {
    const jar = readdirSync(path.join(ROOT, 'build', 'kafka', 'libs')).find((f) =>
      /^kafka-server-[\d.]+\.jar$/.test(f),
    );
    version = jar ? ` ${jar.replace(/^kafka-server-/, '').replace(/\.jar$/, '')}` : '';
  } catch {
    version = '';
  }
  const external = process.env.IE_TEST_BROKER === 'external' ? ', external' : '';
  return `Apache Kafka${version}, ${brokers.length} broker${brokers.length > 1 ? 's' : ''} (KRaft${external})`;
}
