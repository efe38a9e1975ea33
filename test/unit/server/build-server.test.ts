import { silentLogger } from '../../../src/observability';
import { createKafka } from '../../../src/kafka/create-kafka';
import { buildServer } from '../../../src/server';
import { testConfig, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../../helpers/config';

jest.mock('../../../src/kafka/create-kafka', () => {
  const actual = jest.requireActual<typeof import('../../../src/kafka/create-kafka')>(
    '../../../src/kafka/create-kafka',
  );
  return { ...actual, createKafka: jest.fn(actual.createKafka) };
});

describe('buildServer', () => {
  it('makes one kafkajs client for the whole process (publisher, egress lanes, ledger, consent, outbox check)', async () => {
    const server = buildServer(
      testConfig({
        TWILIO_ENABLED: 'true',
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        TWILIO_WEBHOOK_VALIDATION: 'false',
        TWILIO_PHONE_NUMBER: '+14155550100',
      }),
      { logger: silentLogger },
    );
    expect(createKafka).toHaveBeenCalledTimes(1);
    await server.stop();
  });
});
