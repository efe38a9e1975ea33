import Ajv from 'ajv';
import { envelopeJsonSchema } from '../../../../src/envelope/codecs';
import { EVENT_TYPES } from '../../../../src/envelope';
import { sampleEnvelopes } from '../../../helpers/envelopes';

describe('envelopeJsonSchema', () => {
  const schema = JSON.parse(envelopeJsonSchema()) as Record<string, unknown>;
  // A default Ajv, as @kafkajs/confluent-schema-registry builds for any consumer.
  const validate = new Ajv().compile(schema);
  const samples = sampleEnvelopes();

  it('is draft-07 with one branch per event type', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect((schema.oneOf as unknown[]).length).toBe(EVENT_TYPES.length);
  });

  it.each(EVENT_TYPES)('accepts a valid %s envelope', (type) => {
    expect(validate(samples[type])).toBe(true);
  });

  it('rejects what zod rejects: a bad field, an unknown type, an extra field', () => {
    const inbound = samples['sms.inbound.received'];
    expect(validate({ ...inbound, tenant: { accountSid: 'nope' } })).toBe(false);
    expect(validate({ ...inbound, type: 'sms.unknown' })).toBe(false);
    expect(validate({ ...inbound, extra: 1 })).toBe(false);
    expect(validate({ ...inbound, occurredAt: 'yesterday' })).toBe(false);
  });

  it('knows the optional request priority: urgent, normal, bulk or none', () => {
    const request = samples['sms.outbound.requested'];
    const withPriority = (priority: unknown) => ({ ...request, data: { ...request.data, priority } });
    expect(validate(withPriority('urgent'))).toBe(true);
    expect(validate(withPriority('bulk'))).toBe(true);
    expect(validate(request)).toBe(true);
    expect(validate(withPriority('asap'))).toBe(false);
  });

  it('compiles in a default, strict Ajv without warnings (no formats, no type arrays)', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    new Ajv().compile(JSON.parse(envelopeJsonSchema()) as Record<string, unknown>);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(envelopeJsonSchema()).not.toMatch(/"format":"/);
    expect(envelopeJsonSchema()).not.toMatch(/"type":\[/);
  });

  it('is stable (the same text every call, so registration is idempotent)', () => {
    expect(envelopeJsonSchema()).toBe(envelopeJsonSchema());
  });
});
