import { createMetrics } from '../../../../../src/observability';
import type { CreateMessageParams, TwilioMessage } from '../../../../../src/twilio/egress/twilio-messages-port';
import { ALICE, BOB, FakeTwilio, harness, request } from '../fakes';
import { settle } from '../../../../helpers/settle';

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2024, 4, 1, 12) }));
afterEach(() => jest.useRealTimers());

/** Twilio answers with the number of segments it billed (here: what the test says). */
class BillingTwilio extends FakeTwilio {
  segments: number[] = [];
  override async create(p: CreateMessageParams): Promise<TwilioMessage> {
    const m = await super.create(p);
    return { ...m, numSegments: this.segments.shift() ?? m.numSegments };
  }
}

async function segmentSeries(metrics: ReturnType<typeof createMetrics>) {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'sms_message_segments');
  const values = (m?.values ?? []) as { labels: Record<string, string | number>; value: number; metricName?: string }[];
  const of = (suffix: string, encoding: string) =>
    values.find((v) => v.metricName === `sms_message_segments_${suffix}` && v.labels.encoding === encoding)?.value;
  return {
    gsm: { count: of('count', 'GSM-7'), sum: of('sum', 'GSM-7') },
    ucs2: { count: of('count', 'UCS-2'), sum: of('sum', 'UCS-2') },
  };
}

describe('send stage: sms_message_segments{encoding}', () => {
  it('observes the segments Twilio billed for each accepted message, by encoding', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const twilio = new BillingTwilio();
    twilio.segments = [1, 3];
    const h = harness({ metrics, twilio });
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'Your code is 1234' }), h.context(0)));
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'Привет! '.repeat(20) }), h.context(1)));
    expect(await segmentSeries(metrics)).toEqual({ gsm: { count: 1, sum: 1 }, ucs2: { count: 1, sum: 3 } });
  });

  it('falls back to its own segment count when Twilio answers 0, and observes nothing for a refused send', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const twilio = new BillingTwilio();
    twilio.segments = [0];
    twilio.script = ['ok', { status: 400, code: 21211 }];
    const h = harness({ metrics, twilio });
    // 161 GSM-7 characters: two segments by our own count.
    await settle(h.handler.handle(request(h.builder, { to: ALICE, body: 'a'.repeat(161) }), h.context(0)));
    await settle(h.handler.handle(request(h.builder, { to: BOB, body: 'never sent' }), h.context(1)));
    expect(twilio.creates).toHaveLength(2);
    expect(await segmentSeries(metrics)).toEqual({
      gsm: { count: 1, sum: 2 },
      ucs2: { count: undefined, sum: undefined },
    });
  });
});
