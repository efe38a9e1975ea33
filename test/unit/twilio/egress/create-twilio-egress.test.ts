import { createMetrics, silentLogger } from '../../../../src/observability';
import { createSharedEgressParts } from '../../../../src/twilio/egress/create-shared-egress-parts';
import { createTwilioEgress } from '../../../../src/twilio/egress/create-twilio-egress';
import { TwilioMessagesAdapter } from '../../../../src/twilio/egress/twilio-messages-adapter';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { accountOf, testConfig, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../../../helpers/config';
import { MemoryPublisher } from '../../../helpers/memory-publisher';

const config = testConfig({
  TWILIO_ENABLED: 'true',
  TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
  TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com',
});
const base = {
  config,
  account: accountOf(config),
  logger: silentLogger,
  publisher: new MemoryPublisher(),
  consent: { isOptedOut: () => false, isDoNotCall: () => false },
};

describe('createTwilioEgress', () => {
  it('sends through the shared parts it is given: one ledger, circuits, retry policy, DLQ and Twilio client', () => {
    const shared = createSharedEgressParts({ ...base, ledger: new MemorySendLedger(() => Date.now()) });
    const e = createTwilioEgress({ ...base, shared });
    expect(e.ledger).toBe(shared.ledger);
    expect(e.handler.deps.circuits).toBe(shared.circuits);
    expect(e.handler.deps.retry).toBe(shared.retry);
    expect(e.handler.deps.dlq).toBe(shared.dlq);
    expect(e.messages).toBeInstanceOf(TwilioMessagesAdapter);
    expect((e.messages as unknown as { client: unknown }).client).toBe(shared.client);
    expect(e.parts).toBe(shared.parts);
  });

  it('builds the shared parts from its own context when none are given', () => {
    const ledger = new MemorySendLedger(() => Date.now());
    const e = createTwilioEgress({ ...base, ledger });
    expect(e.ledger).toBe(ledger);
    expect(e.handler.deps.circuits.for(TEST_ACCOUNT_SID).state).toBe('closed');
  });

  it('shows the limiter share of the account rate as twilio_rate_limit_share', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const e = createTwilioEgress({ ...base, metrics, ledger: new MemorySendLedger(() => Date.now()) });
    const share = async () => (await metrics.registry.getSingleMetric('twilio_rate_limit_share')!.get()).values;
    expect(await share()).toEqual([expect.objectContaining({ value: 1 })]);
    await e.handler.partitionsAssigned({ assigned: 3, total: 12 });
    expect(await share()).toEqual([expect.objectContaining({ value: 0.25, labels: {} })]);
  });
});
