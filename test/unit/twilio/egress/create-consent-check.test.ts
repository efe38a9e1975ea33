import { SmsEnvelopeBuilder, type InternalEventV2 } from '../../../../src/envelope';
import { createConsentCheck } from '../../../../src/twilio/egress/create-consent-check';
import { createKafka } from '../../../../src/kafka/create-kafka';
import type { EventPublisherPort, PublishedRecord } from '../../../../src/connector/event-publisher-port';
import { silentLogger } from '../../../../src/observability';
import { TEST_ACCOUNT_SID, testConfig } from '../../../helpers/config';

const SENDER = '+14155550100';
const CUSTOMER = '+14155550123';

describe('createConsentCheck', () => {
  const config = testConfig();
  const builder = new SmsEnvelopeBuilder();
  const optOut = builder.consentChanged({
    accountSid: TEST_ACCOUNT_SID,
    action: 'opt_out',
    phoneNumber: CUSTOMER,
    scope: { kind: 'sender', sender: SENDER },
    via: 'keyword',
  });

  function setUp(ack: (e: InternalEventV2) => PublishedRecord) {
    const published: InternalEventV2[] = [];
    const inner: EventPublisherPort = {
      publish: async (e) => {
        published.push(e);
        return ack(e);
      },
      publishRaw: async (r) => ({ topic: r.topic, partition: 0, offset: '0' }),
      isReady: () => true,
    };
    const consent = createConsentCheck({
      config,
      kafka: createKafka(config.kafka, silentLogger),
      logger: silentLogger,
      publisher: inner,
    });
    const optedOut = () =>
      consent.check.isOptedOut({
        accountSid: TEST_ACCOUNT_SID,
        phoneNumber: CUSTOMER,
        from: SENDER,
        messagingServiceSid: undefined,
      });
    return { consent, published, optedOut };
  }

  it('applies a consent change its publisher published as soon as Kafka acknowledged it', async () => {
    const { consent, published, optedOut } = setUp(() => ({
      topic: config.kafka.topics.consent,
      partition: 0,
      offset: '41',
    }));
    expect(optedOut()).toBe(false);
    await consent.publisher.publish(optOut);
    expect(published).toEqual([optOut]);
    expect(optedOut()).toBe(true);
  });

  it('applies nothing when the publish failed or the record went elsewhere', async () => {
    const failing = setUp(() => {
      throw new Error('kafka down');
    });
    await expect(failing.consent.publisher.publish(optOut)).rejects.toThrow('kafka down');
    expect(failing.optedOut()).toBe(false);
    const elsewhere = setUp(() => ({ topic: 'another-topic', partition: 0, offset: '1' }));
    await elsewhere.consent.publisher.publish(optOut);
    expect(elsewhere.optedOut()).toBe(false);
  });
});
