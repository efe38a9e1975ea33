import { EGRESS_PRIORITIES, InternalEventV2, priorityOf } from '../../../src/envelope';
import { sampleEnvelopes } from '../../helpers/envelopes';

describe('sms.outbound.requested priority', () => {
  const request = sampleEnvelopes()['sms.outbound.requested'];
  const withPriority = (priority: unknown) => ({ ...request, data: { ...request.data, priority } });

  it.each(EGRESS_PRIORITIES)('accepts priority %s and keeps it', (priority) => {
    const parsed = InternalEventV2.parse(withPriority(priority));
    expect(parsed.type === 'sms.outbound.requested' && parsed.data.priority).toBe(priority);
  });

  it('is optional (envelopes written before it stay valid) and then means normal', () => {
    const parsed = InternalEventV2.parse(request);
    if (parsed.type !== 'sms.outbound.requested') throw new Error('wrong type');
    expect(parsed.data.priority).toBeUndefined();
    expect(priorityOf(parsed.data)).toBe('normal');
    expect(priorityOf({ priority: 'bulk' })).toBe('bulk');
  });

  it('rejects an unknown priority with the field named', () => {
    const result = InternalEventV2.safeParse(withPriority('asap'));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['data', 'priority']);
  });
});
