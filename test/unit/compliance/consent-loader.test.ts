import type { Kafka } from 'kafkajs';
import { ConsentLoader, decodeJsonConsentRecord } from '../../../src/compliance/consent-loader';
import { ConsentStore } from '../../../src/compliance/consent-store';
import { SmsEnvelopeBuilder } from '../../../src/envelope';

// Lifecycle without a broker; reading the topic is tested against the broker in test/integration/compliance.
function kafkaThatIsDown(calls: { admin: number }): Kafka {
  return {
    admin: () => {
      calls.admin++;
      return {
        connect: () => Promise.reject(new Error('Connection error: connect ECONNREFUSED')),
        disconnect: () => Promise.resolve(),
      };
    },
  } as unknown as Kafka;
}

function loader(kafka: Kafka) {
  return new ConsentLoader({ kafka, topic: 'sms.consent', store: new ConsentStore(), decode: decodeJsonConsentRecord });
}

describe('ConsentLoader lifecycle', () => {
  it('a failed start reports failed, is not ready, and can be retried', async () => {
    const calls = { admin: 0 };
    const l = loader(kafkaThatIsDown(calls));
    expect(l.state).toBe('idle');
    await expect(l.start()).rejects.toThrow(/ECONNREFUSED/);
    expect(l.state).toBe('failed');
    expect(l.ready).toBe(false);
    await expect(l.start()).rejects.toThrow(/ECONNREFUSED/);
    expect(calls.admin).toBe(2);
  });

  it('stop() is idempotent and a stopped loader never reopens', async () => {
    const l = loader(kafkaThatIsDown({ admin: 0 }));
    const first = l.stop();
    expect(l.stop()).toBe(first);
    await first;
    expect(l.state).toBe('stopped');
    await expect(l.start()).rejects.toMatchObject({ code: 'IE_LIFECYCLE' });
  });
});

describe('decodeJsonConsentRecord', () => {
  it('decodes and validates a JSON envelope', async () => {
    const event = new SmsEnvelopeBuilder().consentChanged({
      accountSid: 'AC' + '0'.repeat(31) + '1',
      action: 'opt_out',
      phoneNumber: '+14155550123',
      scope: { kind: 'account' },
      via: 'keyword',
    });
    await expect(decodeJsonConsentRecord(Buffer.from(JSON.stringify(event)))).resolves.toEqual(event);
  });

  it('rejects what is not JSON or not an envelope', async () => {
    await expect(decodeJsonConsentRecord(Buffer.from('nope'))).rejects.toThrow();
    await expect(decodeJsonConsentRecord(Buffer.from('{"type":"sms.consent.changed"}'))).rejects.toMatchObject({
      code: 'IE_ENVELOPE_INVALID',
    });
  });
});
