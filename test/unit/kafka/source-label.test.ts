import { SourceLabels } from '../../../src/kafka/source-label';

describe('SourceLabels', () => {
  it('keeps a short lower-case source name and folds anything else, and any source past the cap, into "other"', () => {
    const labels = new SourceLabels(3);
    expect(labels.of('whatsapp')).toBe('whatsapp');
    expect(labels.of('sms-gateway_2')).toBe('sms-gateway_2');
    expect(labels.of('+14155550123')).toBe('other');
    expect(labels.of('Bad Source')).toBe('other');
    expect(labels.of('x'.repeat(40))).toBe('other');
    expect(labels.of('email')).toBe('email');
    // The cap is reached: new names fold, known ones keep their label.
    expect(labels.of('push')).toBe('other');
    expect(labels.of('whatsapp')).toBe('whatsapp');
  });

  it('says whether a source is seen for the first time (to log once per source)', () => {
    const labels = new SourceLabels(2);
    expect(labels.firstSeen('whatsapp')).toBe(true);
    expect(labels.firstSeen('whatsapp')).toBe(false);
    expect(labels.firstSeen('+14155550123')).toBe(true);
    expect(labels.firstSeen('+14155550199')).toBe(false);
  });
});
