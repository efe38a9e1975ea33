import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type AppConfig, type TwilioAccount } from '../../src/config';

export const TEST_ACCOUNT_SID = 'AC' + '0'.repeat(31) + '1';
export const TEST_AUTH_TOKEN = 'test-auth-token-0123456789abcdef';

/** A valid configuration for tests; override any variable. */
export function testConfig(overrides: Record<string, string | undefined> = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    TWILIO_ENABLED: 'false',
    // Each test configuration its own voice outbox, never the repository's data/.
    VOICE_OUTBOX_DIR: path.join(tmpdir(), `ie-voice-outbox-${process.pid}-${randomBytes(4).toString('hex')}`),
    ...overrides,
  });
}

/** The Twilio account of a configuration with credentials (what buildServer hands the Twilio connector). */
export function accountOf(config: AppConfig): TwilioAccount {
  if (!config.twilio.account) throw new Error('the test configuration has no TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
  return config.twilio.account;
}
