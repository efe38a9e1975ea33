import { createHash } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { InternalEventV2 } from '../../../../src/envelope';
import { IngressEgressError } from '../../../../src/errors';
import type { PublishedRecord } from '../../../../src/connector/event-publisher-port';
import { EMPTY_TWIML, SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH } from '../../../../src/twilio/webhooks';
import { MemoryPublisher } from '../../../helpers/memory-publisher';
import {
  ACCOUNT,
  BASE_URL,
  CUSTOMER,
  harness,
  inboundParams,
  metricValue,
  MG,
  SENDER,
  sid,
  signed,
  statusParams,
  SUB_TOKEN,
  SUBACCOUNT,
  type Harness,
} from './webhook-kit';

/** A publisher whose acks the test releases by hand, or fails. */
class GatedPublisher extends MemoryPublisher {
  private gates: { release: () => void; fail: (e: unknown) => void }[] = [];
  calls = 0;
  override async publish(event: InternalEventV2): Promise<PublishedRecord> {
    this.calls++;
    await new Promise<void>((release, fail) => this.gates.push({ release, fail }));
    return super.publish(event);
  }
  get waiting(): number {
    return this.gates.length;
  }
  releaseAll(): void {
    for (const g of this.gates.splice(0)) g.release();
  }
  failAll(): void {
    for (const g of this.gates.splice(0)) g.fail(new IngressEgressError('IE_KAFKA_UNAVAILABLE', 'broker went away'));
  }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not reached');
};

let h: Harness;
afterEach(async () => {
  await h?.server.stop();
});

const ofType = <T extends InternalEventV2['type']>(events: InternalEventV2[], type: T) =>
  events.filter((e): e is Extract<InternalEventV2, { type: T }> => e.type === type);

describe('POST /webhooks/twilio/sms', () => {
  it('publishes sms.inbound.received and answers empty TwiML as text/xml', async () => {
    h = await harness();
    const res = await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(1)));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toBe(EMPTY_TWIML);
    expect(h.publisher.events).toHaveLength(1);
    const [event] = ofType(h.publisher.events, 'sms.inbound.received');
    expect(event).toMatchObject({
      source: 'twilio',
      tenant: { accountSid: ACCOUNT },
      subject: CUSTOMER,
      data: {
        channel: 'sms',
        messageSid: sid(1),
        from: CUSTOMER,
        to: SENDER,
        body: 'Hello there',
        numSegments: 1,
        geo: { FromCountry: 'US' },
      },
    });
    expect(await metricValue(h.metrics, 'twilio_messages_received_total', { type: 'sms.inbound.received' })).toBe(1);
    expect(await metricValue(h.metrics, 'twilio_webhook_requests_total', { code: '200' })).toBe(1);
  });

  it('keeps every media URL and content type of an MMS, and the messaging service', async () => {
    h = await harness();
    const media = {
      NumMedia: '3',
      MediaUrl0: 'https://api.twilio.com/media/0',
      MediaContentType0: 'image/jpeg',
      MediaUrl1: 'https://api.twilio.com/media/1',
      MediaContentType1: 'image/png',
      MediaUrl2: 'https://api.twilio.com/media/2',
      MediaContentType2: 'video/mp4',
      MessagingServiceSid: MG,
    };
    const res = await h.server.app.inject(
      signed(SMS_WEBHOOK_PATH, inboundParams(2, { ...media, MessageSid: sid(2, 'MM') })),
    );
    expect(res.statusCode).toBe(200);
    const [event] = ofType(h.publisher.events, 'sms.inbound.received');
    expect(event!.data.channel).toBe('mms');
    expect(event!.tenant.messagingServiceSid).toBe(MG);
    expect(event!.data.media).toEqual([
      { url: 'https://api.twilio.com/media/0', contentType: 'image/jpeg' },
      { url: 'https://api.twilio.com/media/1', contentType: 'image/png' },
      { url: 'https://api.twilio.com/media/2', contentType: 'video/mp4' },
    ]);
  });

  it('answers only after the publish was acknowledged', async () => {
    const publisher = new GatedPublisher();
    h = await harness({}, { publisher });
    let answered = false;
    const pending = h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(3))).then((r) => {
      answered = true;
      return r;
    });
    await until(() => publisher.waiting === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    publisher.releaseAll();
    expect((await pending).statusCode).toBe(200);
  });

  describe('signatures', () => {
    it('answers 400 to a request without X-Twilio-Signature and publishes nothing', async () => {
      h = await harness();
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(4));
      delete (req.headers as Record<string, string>)['x-twilio-signature'];
      const res = await h.server.app.inject(req);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'signature_missing' });
      expect(h.publisher.events).toHaveLength(0);
      expect(await metricValue(h.metrics, 'twilio_webhook_signature_failures_total', { reason: 'missing' })).toBe(1);
      // Missing is not an authentication failure (no credentials were tried): twilio_auth_failures_total stays 0.
      expect(await metricValue(h.metrics, 'twilio_auth_failures_total', { source: 'webhook_signature' })).toBe(0);
    });

    it('answers 403 to a wrong signature, a tampered body or a foreign account, and publishes nothing', async () => {
      h = await harness();
      const wrongToken = await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(5), { token: 'nope' }));
      expect(wrongToken.statusCode).toBe(403);
      const good = signed(SMS_WEBHOOK_PATH, inboundParams(5));
      const tampered = await h.server.app.inject({
        ...good,
        payload: new URLSearchParams(inboundParams(5, { Body: 'Hello therf' })).toString(),
      });
      expect(tampered.statusCode).toBe(403);
      const foreign = await h.server.app.inject(
        signed(SMS_WEBHOOK_PATH, inboundParams(5, { AccountSid: 'AC' + '9'.repeat(32) }), { token: 'x' }),
      );
      expect(foreign.statusCode).toBe(403);
      expect(h.publisher.events).toHaveLength(0);
      expect(await metricValue(h.metrics, 'twilio_webhook_signature_failures_total')).toBe(3);
      // Invalid (wrong token, tampered) and unknown account both count as authentication failures.
      expect(await metricValue(h.metrics, 'twilio_auth_failures_total', { source: 'webhook_signature' })).toBe(3);
      expect(await metricValue(h.metrics, 'twilio_auth_failures_total', { source: 'twilio_api' })).toBe(0);
    });

    it('validates against the public URL whatever Host and protocol the proxy forwarded', async () => {
      h = await harness();
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(6));
      const res = await h.server.app.inject({
        ...req,
        headers: { ...req.headers, host: '10.0.0.7:4000', 'x-forwarded-proto': 'http' },
      });
      expect(res.statusCode).toBe(200);
    });

    it('validates a subaccount webhook with the subaccount token', async () => {
      h = await harness();
      const params = inboundParams(7, { AccountSid: SUBACCOUNT });
      const res = await h.server.app.inject(signed(SMS_WEBHOOK_PATH, params, { token: SUB_TOKEN }));
      expect(res.statusCode).toBe(200);
      expect(h.publisher.events[0]!.tenant.accountSid).toBe(SUBACCOUNT);
    });

    it('accepts a JSON body signed through bodySHA256', async () => {
      h = await harness();
      const raw = JSON.stringify(inboundParams(8));
      const url = `${SMS_WEBHOOK_PATH}?bodySHA256=${createHash('sha256').update(raw).digest('hex')}`;
      const signature = getExpectedTwilioSignature('unit-auth-token-0123456789', BASE_URL + url, {});
      const res = await h.server.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
        payload: raw,
      });
      expect(res.statusCode).toBe(200);
      expect(h.publisher.events).toHaveLength(1);
      const tampered = await h.server.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
        payload: raw.replace('Hello', 'Jello'),
      });
      expect(tampered.statusCode).toBe(403);
    });

    it('skips the check only when validation is configured off', async () => {
      h = await harness({ TWILIO_WEBHOOK_VALIDATION: 'false' });
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(9));
      delete (req.headers as Record<string, string>)['x-twilio-signature'];
      expect((await h.server.app.inject(req)).statusCode).toBe(200);
    });
  });

  describe('bad input', () => {
    it('answers 400 naming a missing parameter', async () => {
      h = await harness();
      const params = inboundParams(10);
      delete params.From;
      const res = await h.server.app.inject(signed(SMS_WEBHOOK_PATH, params));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_payload', reason: 'missing parameter From' });
      expect(h.publisher.events).toHaveLength(0);
    });

    it('answers 413 to a body over the limit', async () => {
      h = await harness();
      const res = await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(11, { Body: 'x'.repeat(5000) })));
      expect(res.statusCode).toBe(413);
      expect(h.publisher.events).toHaveLength(0);
    });

    it('answers 415 to another content type and 400 to unparsable JSON', async () => {
      h = await harness();
      const text = await h.server.app.inject({
        method: 'POST',
        url: SMS_WEBHOOK_PATH,
        headers: { 'content-type': 'text/plain', 'x-twilio-signature': 'x' },
        payload: 'hello',
      });
      expect(text.statusCode).toBe(415);
      const json = await h.server.app.inject({
        method: 'POST',
        url: SMS_WEBHOOK_PATH,
        headers: { 'content-type': 'application/json', 'x-twilio-signature': 'x' },
        payload: '{"AccountSid":',
      });
      expect(json.statusCode).toBe(400);
      expect(json.json()).toMatchObject({ reason: 'body is not valid JSON' });
    });

    it('never answers 5xx to garbage', async () => {
      h = await harness({ TWILIO_WEBHOOK_VALIDATION: 'false' });
      const bodies = ['', '&&&', '%', 'a=%ZZ', 'NumMedia=-1', 'AccountSid[]=1', '=', 'x'.repeat(3000), '\u0000'];
      for (const payload of bodies) {
        for (const url of [SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH]) {
          const res = await h.server.app.inject({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload,
          });
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
        }
      }
      const noBody = await h.server.app.inject({ method: 'POST', url: SMS_WEBHOOK_PATH });
      expect(noBody.statusCode).toBe(400);
      expect(h.publisher.events).toHaveLength(0);
    });
  });

  describe('Kafka unavailable', () => {
    it('answers 503 with Retry-After while the publisher is not ready, then publishes the retry', async () => {
      h = await harness();
      h.publisher.down = true;
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(12), { headers: { 'i-twilio-idempotency-token': 't-12' } });
      const down = await h.server.app.inject(req);
      expect(down.statusCode).toBe(503);
      expect(down.headers['retry-after']).toBeDefined();
      expect(h.publisher.events).toHaveLength(0);
      h.publisher.down = false;
      const retry = await h.server.app.inject(req);
      expect(retry.statusCode).toBe(200);
      expect(h.publisher.events).toHaveLength(1);
    });

    it('answers 503 (not 500) when Kafka rejects the record for good, so nothing is lost once it is fixed', async () => {
      h = await harness();
      h.publisher.failWith = new IngressEgressError('IE_KAFKA_REJECTED', 'authorization failed', { retriable: false });
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(13));
      const res = await h.server.app.inject(req);
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'kafka_rejected' });
      h.publisher.failWith = undefined;
      expect((await h.server.app.inject(req)).statusCode).toBe(200);
    });

    it('answers 503 when the publish itself fails, to the first delivery and to a repeat waiting on it', async () => {
      const publisher = new GatedPublisher();
      h = await harness({}, { publisher });
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(13), { headers: { 'i-twilio-idempotency-token': 't-13' } });
      const first = h.server.app.inject(req);
      await until(() => publisher.waiting === 1);
      const repeat = h.server.app.inject(req);
      await new Promise((r) => setTimeout(r, 10));
      expect(publisher.calls).toBe(1);
      publisher.failAll();
      expect((await first).statusCode).toBe(503);
      expect((await repeat).statusCode).toBe(503);
      // The failure is forgotten: Twilio's retry publishes.
      const retry = h.server.app.inject(req);
      await until(() => publisher.waiting === 1);
      publisher.releaseAll();
      expect((await retry).statusCode).toBe(200);
      expect(publisher.events).toHaveLength(1);
    });

    it('answers 503 when Kafka does not acknowledge within the publish deadline', async () => {
      const publisher = new GatedPublisher();
      h = await harness({}, { publisher, publishTimeoutMs: 50 });
      expect(await metricValue(h.metrics, 'twilio_webhook_timeouts_total', { route: SMS_WEBHOOK_PATH })).toBe(0);
      const res = await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(14)));
      expect(res.statusCode).toBe(503);
      publisher.releaseAll();
      expect(await metricValue(h.metrics, 'twilio_webhook_timeouts_total', { route: SMS_WEBHOOK_PATH })).toBe(1);
      expect(await metricValue(h.metrics, 'twilio_webhook_timeouts_total', { route: STATUS_WEBHOOK_PATH })).toBe(0);
      expect(
        await metricValue(h.metrics, 'twilio_webhook_requests_total', { route: SMS_WEBHOOK_PATH, code: '503' }),
      ).toBe(1);
    });
  });

  describe('answer deadline (TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS)', () => {
    it('answers 503 once the configured deadline passes without Kafka’s ack, and 200 within it', async () => {
      const publisher = new GatedPublisher();
      h = await harness({ TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS: '0.2' }, { publisher });
      const late = h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(40)));
      expect((await late).statusCode).toBe(503);
      expect(await metricValue(h.metrics, 'twilio_webhook_timeouts_total', { route: SMS_WEBHOOK_PATH })).toBe(1);
      publisher.releaseAll();
      const inTime = h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(41)));
      await until(() => publisher.waiting === 1);
      publisher.releaseAll();
      expect((await inTime).statusCode).toBe(200);
      expect(await metricValue(h.metrics, 'twilio_webhook_timeouts_total', { route: SMS_WEBHOOK_PATH })).toBe(1);
    });
  });

  describe('duplicates', () => {
    it('publishes a redelivery with the same idempotency token once and answers it 200', async () => {
      h = await harness();
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(15), { headers: { 'i-twilio-idempotency-token': 'tok-15' } });
      expect((await h.server.app.inject(req)).statusCode).toBe(200);
      const again = await h.server.app.inject(req);
      expect(again.statusCode).toBe(200);
      expect(again.body).toBe(EMPTY_TWIML);
      expect(h.publisher.events).toHaveLength(1);
      expect(await metricValue(h.metrics, 'twilio_webhook_duplicates_total', { route: SMS_WEBHOOK_PATH })).toBe(1);
    });

    it('publishes a different signed message that reuses an idempotency token (the token is not signed)', async () => {
      h = await harness();
      const token = { headers: { 'i-twilio-idempotency-token': 'shared' } };
      expect((await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(40), token))).statusCode).toBe(200);
      // Another message, from another number, a STOP: its opt-out must not be lost.
      const stop = inboundParams(41, { From: '+14155550199', Body: 'STOP' });
      expect((await h.server.app.inject(signed(SMS_WEBHOOK_PATH, stop, token))).statusCode).toBe(200);
      // And a status callback with the same token: /sms and /status share no token space.
      expect((await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(42, 'sent'), token))).statusCode).toBe(
        204,
      );
      expect(h.publisher.events.map((e) => e.type).sort()).toEqual([
        'sms.consent.changed',
        'sms.inbound.received',
        'sms.inbound.received',
        'sms.status.updated',
      ]);
      expect(await metricValue(h.metrics, 'twilio_webhook_duplicates_total', { route: SMS_WEBHOOK_PATH })).toBe(0);
    });

    it('recognises the same MessageSid without a token', async () => {
      h = await harness();
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(16)));
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(16)));
      expect(h.publisher.events).toHaveLength(1);
    });

    it('lets a repeat that arrives while the first is in flight wait for the same ack', async () => {
      const publisher = new GatedPublisher();
      h = await harness({}, { publisher });
      const req = signed(SMS_WEBHOOK_PATH, inboundParams(17), { headers: { 'i-twilio-idempotency-token': 'tok-17' } });
      const first = h.server.app.inject(req);
      await until(() => publisher.waiting === 1);
      const repeat = h.server.app.inject(req);
      await new Promise((r) => setTimeout(r, 10));
      publisher.releaseAll();
      expect((await first).statusCode).toBe(200);
      expect((await repeat).statusCode).toBe(200);
      expect(publisher.calls).toBe(1);
    });

    it('publishes again (with the same event id) once the window has passed', async () => {
      h = await harness({}, { dedupWindowMs: 60_000 });
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(18)));
      h.now.ms += 60_000;
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(18)));
      expect(h.publisher.events).toHaveLength(2);
      expect(h.publisher.events[0]!.id).toBe(h.publisher.events[1]!.id);
    });
  });

  describe('opt-out keywords', () => {
    const consents = (h: Harness) => ofType(h.publisher.events, 'sms.consent.changed');

    it('publishes an opt-out for STOP, scoped to the number written to', async () => {
      h = await harness();
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(20, { Body: '  stop ' })));
      const inbound = ofType(h.publisher.events, 'sms.inbound.received')[0]!;
      expect(consents(h)).toEqual([
        expect.objectContaining({
          causationId: inbound.id,
          subject: CUSTOMER,
          data: {
            action: 'opt_out',
            phoneNumber: CUSTOMER,
            scope: { kind: 'sender', sender: SENDER },
            via: 'keyword',
            keyword: 'STOP',
            messageSid: sid(20),
          },
        }),
      ]);
      expect(await metricValue(h.metrics, 'twilio_opt_out_events_total', { action: 'opt_out', via: 'keyword' })).toBe(
        1,
      );
    });

    it('scopes to the messaging service when the number belongs to one, and STOPALL to the account', async () => {
      h = await harness();
      await h.server.app.inject(
        signed(SMS_WEBHOOK_PATH, inboundParams(21, { Body: 'UNSUBSCRIBE', MessagingServiceSid: MG })),
      );
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(22, { Body: 'stopall' })));
      expect(consents(h).map((c) => c.data.scope)).toEqual([
        { kind: 'messaging_service', messagingServiceSid: MG },
        { kind: 'account' },
      ]);
    });

    it("follows Twilio's OptOutType even for a keyword we do not know", async () => {
      h = await harness();
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(23, { Body: 'ARRET', OptOutType: 'STOP' })));
      expect(consents(h)).toHaveLength(1);
      expect(consents(h)[0]!.data).toMatchObject({ action: 'opt_out', via: 'opt_out_type' });
      expect(consents(h)[0]!.data.keyword).toBeUndefined();
    });

    it('publishes an opt-in for START, scoped like the opt-out it lifts', async () => {
      h = await harness();
      await h.server.app.inject(
        signed(SMS_WEBHOOK_PATH, inboundParams(24, { Body: 'Start', OptOutType: 'START', MessagingServiceSid: MG })),
      );
      expect(consents(h).map((e) => [e.data.action, e.data.scope, e.data.via, e.data.keyword])).toEqual([
        ['opt_in', { kind: 'messaging_service', messagingServiceSid: MG }, 'opt_out_type', 'START'],
      ]);
      expect(await metricValue(h.metrics, 'twilio_opt_out_events_total', { action: 'opt_in' })).toBe(1);
    });

    it('falls back to the whole account when the number written to is a short code', async () => {
      h = await harness();
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(27, { Body: 'quit', To: '12345' })));
      expect(consents(h).map((e) => e.data.scope)).toEqual([{ kind: 'account' }]);
    });

    it('honours configured extra keywords', async () => {
      h = await harness({ COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS: 'ARRET,BAJA' });
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(28, { Body: 'arret' })));
      expect(consents(h).map((e) => [e.data.action, e.data.via, e.data.keyword])).toEqual([
        ['opt_out', 'keyword', 'ARRET'],
      ]);
    });

    it('publishes no consent change for HELP or for an ordinary message', async () => {
      h = await harness();
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(25, { Body: 'HELP', OptOutType: 'HELP' })));
      await h.server.app.inject(signed(SMS_WEBHOOK_PATH, inboundParams(26, { Body: 'please stop calling me' })));
      expect(consents(h)).toHaveLength(0);
      expect(ofType(h.publisher.events, 'sms.inbound.received')[0]!.data.optOutType).toBe('HELP');
    });
  });
});

describe('POST /webhooks/twilio/status', () => {
  const statuses = (h: Harness) => ofType(h.publisher.events, 'sms.status.updated');

  it('publishes each status with 204, keyed by MessageSid, each advancing in order', async () => {
    h = await harness();
    for (const s of ['queued', 'sending', 'sent', 'delivered', 'read']) {
      const res = await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(30, s)));
      expect(res.statusCode).toBe(204);
    }
    expect(statuses(h).map((e) => [e.data.status, e.data.advances])).toEqual([
      ['queued', true],
      ['sending', true],
      ['sent', true],
      ['delivered', true],
      ['read', true],
    ]);
    expect(statuses(h)[3]!.subject).toBe(sid(30));
    expect(await metricValue(h.metrics, 'twilio_delivery_status_total', { status: 'delivered' })).toBe(1);
  });

  it('publishes a late callback too, marked as not advancing', async () => {
    h = await harness();
    await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(31, 'delivered')));
    await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(31, 'sent')));
    expect(statuses(h).map((e) => [e.data.status, e.data.advances, e.data.terminal])).toEqual([
      ['delivered', true, true],
      ['sent', false, false],
    ]);
  });

  it('carries the error code of a failed message', async () => {
    h = await harness();
    await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(32, 'undelivered', { ErrorCode: '30003' })));
    expect(statuses(h)[0]!.data).toMatchObject({ status: 'undelivered', errorCode: 30003, terminal: true });
  });

  it('does not let a failed publish mark its own retry as late', async () => {
    const publisher = new GatedPublisher();
    h = await harness({}, { publisher });
    const first = h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(33, 'sent')));
    await until(() => publisher.waiting === 1);
    publisher.failAll();
    expect((await first).statusCode).toBe(503);
    const retry = h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(33, 'sent')));
    await until(() => publisher.waiting === 1);
    publisher.releaseAll();
    expect((await retry).statusCode).toBe(204);
    expect(statuses(h).map((e) => [e.data.status, e.data.advances])).toEqual([['sent', true]]);
  });

  it('suppresses a redelivered callback but not the next status of the same message', async () => {
    h = await harness();
    const sent = signed(STATUS_WEBHOOK_PATH, statusParams(34, 'sent'), {
      headers: { 'i-twilio-idempotency-token': 'a' },
    });
    await h.server.app.inject(sent);
    expect((await h.server.app.inject(sent)).statusCode).toBe(204);
    await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(34, 'delivered')));
    expect(statuses(h).map((e) => e.data.status)).toEqual(['sent', 'delivered']);
  });

  it('answers 400 to an unknown status and to a missing MessageStatus', async () => {
    h = await harness();
    const unknown = await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(35, 'exploded')));
    expect(unknown.statusCode).toBe(400);
    const params = statusParams(35, 'sent');
    delete params.MessageStatus;
    delete params.SmsStatus;
    const missing = await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, params));
    expect(missing.json()).toEqual({ error: 'invalid_payload', reason: 'missing parameter MessageStatus' });
    expect(h.publisher.events).toHaveLength(0);
  });

  it('records the webhook latency per route', async () => {
    h = await harness();
    await h.server.app.inject(signed(STATUS_WEBHOOK_PATH, statusParams(36, 'sent')));
    const json = await h.metrics.registry.getMetricsAsJSON();
    const latency = json.find((m) => m.name === 'twilio_webhook_latency_seconds')!;
    const count = (latency.values as { metricName?: string; value: number; labels: Record<string, string> }[]).find(
      (v) => v.metricName === 'twilio_webhook_latency_seconds_count' && v.labels.route === STATUS_WEBHOOK_PATH,
    );
    expect(count?.value).toBe(1);
  });
});
