import { createMetrics } from '../../../../src/observability';
import { errorCodeLabel, initTwilioErrorSeries, recordTwilioError } from '../../../../src/twilio/rest/error-code-label';

async function series(metrics: ReturnType<typeof createMetrics>, name: string) {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []) as { labels: Record<string, string>; value: number }[];
}

describe('the error_code label', () => {
  it('is a code the error map knows, else other, or none: never free text or a number from elsewhere', () => {
    expect(errorCodeLabel(21610)).toBe('21610');
    expect(errorCodeLabel('30002')).toBe('30002');
    expect(errorCodeLabel(99999)).toBe('other');
    expect(errorCodeLabel('+14155550123')).toBe('other');
    expect(errorCodeLabel(undefined)).toBe('none');
    expect(errorCodeLabel(null)).toBe('none');
    expect(errorCodeLabel('')).toBe('none');
  });

  it('counts a Twilio error by type and code, an auth refusal also as an auth failure', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    recordTwilioError(metrics, { type: 'auth', twilioErrorCode: 20003 });
    recordTwilioError(metrics, { type: 'permanent', twilioErrorCode: 12345 });
    const errors = await series(metrics, 'twilio_errors_total');
    expect(errors).toEqual(
      expect.arrayContaining([
        { labels: { error_type: 'auth', error_code: '20003' }, value: 1 },
        { labels: { error_type: 'permanent', error_code: 'other' }, value: 1 },
      ]),
    );
    expect(await series(metrics, 'twilio_auth_failures_total')).toEqual(
      expect.arrayContaining([{ labels: { source: 'twilio_api' }, value: 1 }]),
    );
    recordTwilioError(undefined, { type: 'auth' }); // no metrics: nothing to do, no throw
  });

  it('starts one series per error-map row at 0, so the first 30002 shows in increase()', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    initTwilioErrorSeries(metrics);
    const errors = await series(metrics, 'twilio_errors_total');
    expect(errors.find((s) => s.labels.error_code === '30002')).toMatchObject({ value: 0 });
    expect(errors.every((s) => s.value === 0)).toBe(true);
    expect(new Set(errors.map((s) => s.labels.error_code)).size).toBeLessThanOrEqual(40);
  });
});
