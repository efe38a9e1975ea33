import { createMetrics, silentLogger } from '../../../../src/observability';
import { buildServer } from '../../../../src/server';
import { createWebhookRoutes, EMPTY_TWIML, SMS_WEBHOOK_PATH } from '../../../../src/twilio/webhooks';
import { testConfig } from '../../../helpers/config';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import { ACCOUNT, BASE_URL, inboundParams, signed, TOKEN } from './webhook-kit';

describe('createWebhookRoutes wiring', () => {
  it('is part of the default Twilio connector: both routes answer through buildServer', async () => {
    const config = testConfig({
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_WEBHOOK_BASE_URL: BASE_URL,
    });
    const publisher = new MemoryPublisher();
    const server = buildServer(config, {
      publisher,
      logger: silentLogger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    try {
      // Routes only: the connector's other parts (consent loader, …) need a broker, not this test.
      await server.prepare();
      await publisher.start();
      expect(server.routes()).toEqual(
        expect.arrayContaining(['POST /webhooks/twilio/sms', 'POST /webhooks/twilio/status']),
      );
      const res = await server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(1)));
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(EMPTY_TWIML);
      expect(publisher.events.map((e) => e.type)).toEqual(['sms.inbound.received']);
    } finally {
      await server.app.close();
    }
  });

  it('refuses to build without a public base URL while validation is on', () => {
    const config = testConfig({ TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN });
    expect(() =>
      createWebhookRoutes({ config, logger: silentLogger, metrics: createMetrics(), publisher: new MemoryPublisher() }),
    ).toThrow(expect.objectContaining({ code: 'IE_CONFIG_INVALID' }));
  });
});
