import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configurationReference } from '../../../src/config/reference';

describe('docs/configuration.md', () => {
  it('is what the schema generates (run `npm run docs:config` when this fails)', () => {
    const committed = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(committed).toBe(configurationReference());
  });

  it('marks secrets and required variables', () => {
    const doc = configurationReference();
    expect(doc).toMatch(/\| `TWILIO_AUTH_TOKEN` \| — \| yes \|/);
    expect(doc).toMatch(/\| `KAFKA_BROKERS` \| required \|/);
    expect(doc).toMatch(/\| `HTTP_PORT` \| `4000` \|/);
  });
});
