import { cloudEventHeaders, headersToStrings } from '../../../src/kafka/cloud-events';
import { sampleEnvelopes } from '../../helpers/envelopes';

describe('cloudEventHeaders', () => {
  const samples = sampleEnvelopes();

  it('maps the envelope to CloudEvents binary-mode attributes', () => {
    const e = samples['sms.inbound.received'];
    expect(cloudEventHeaders(e, 'application/json')).toEqual({
      ce_specversion: '1.0',
      ce_id: e.id,
      ce_type: 'sms.inbound.received',
      ce_source: 'twilio',
      ce_time: e.occurredAt,
      ce_subject: e.subject,
      'content-type': 'application/json',
    });
  });

  it('carries correlation and causation as extension attributes', () => {
    const e = samples['sms.outbound.accepted'];
    const h = cloudEventHeaders(e, 'application/json');
    expect(h.ce_correlationid).toBe(e.correlationId);
    expect(h.ce_causationid).toBe(e.causationId);
    expect(h.ce_causationid).toBe(samples['sms.outbound.requested'].id);
  });
});

describe('headersToStrings', () => {
  it('decodes buffers and keeps the last of repeated headers', () => {
    expect(
      headersToStrings({ a: Buffer.from('x'), b: [Buffer.from('1'), Buffer.from('2')], c: 'plain', d: undefined }),
    ).toEqual({ a: 'x', b: '2', c: 'plain' });
    expect(headersToStrings(undefined)).toEqual({});
  });
});
