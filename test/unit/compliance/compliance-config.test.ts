import { ConfigError, loadConfig } from '../../../src/config';
import { KeywordDetector } from '../../../src/sms/keywords';

// The COMPLIANCE_* variables as src/compliance consumes them (AppConfig.compliance).
const base = { KAFKA_BROKERS: '127.0.0.1:9092', TWILIO_ENABLED: 'false' };

function problems(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('compliance configuration', () => {
  it('defaults to no extra keywords', () => {
    expect(loadConfig(base).compliance).toEqual({
      extraOptOutKeywords: [],
      extraOptInKeywords: [],
      extraHelpKeywords: [],
    });
  });

  it('parses the extra keyword lists and the detector accepts them', () => {
    const c = loadConfig({
      ...base,
      COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS: 'arret, baja',
      COMPLIANCE_EXTRA_OPT_IN_KEYWORDS: 'subscribe',
      COMPLIANCE_EXTRA_HELP_KEYWORDS: 'aide,ayuda',
    }).compliance;
    expect(c).toEqual({
      extraOptOutKeywords: ['arret', 'baja'],
      extraOptInKeywords: ['subscribe'],
      extraHelpKeywords: ['aide', 'ayuda'],
    });
    const d = new KeywordDetector({
      extraOptOut: c.extraOptOutKeywords,
      extraOptIn: c.extraOptInKeywords,
      extraHelp: c.extraHelpKeywords,
    });
    expect(d.detect('Baja')).toMatchObject({ action: 'opt_out' });
  });

  it('refuses multi-word keywords and keywords that already mean another action, naming the variable', () => {
    expect(problems({ COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS: 'stop now' }).map((p) => p.variable)).toEqual([
      'COMPLIANCE_EXTRA_OPT_OUT_KEYWORDS',
    ]);
    const clash = problems({ COMPLIANCE_EXTRA_HELP_KEYWORDS: 'start', COMPLIANCE_EXTRA_OPT_IN_KEYWORDS: 'stop' });
    expect(clash).toEqual([
      { variable: 'COMPLIANCE_EXTRA_OPT_IN_KEYWORDS', message: 'keyword STOP is already an opt-out keyword' },
      { variable: 'COMPLIANCE_EXTRA_HELP_KEYWORDS', message: 'keyword START is already an opt-in keyword' },
    ]);
  });
});
