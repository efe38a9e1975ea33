import { isRetriable } from '../../../src/errors';
import {
  actionFromOptOutType,
  consentScopeFor,
  DEFAULT_HELP_KEYWORDS,
  DEFAULT_OPT_IN_KEYWORDS,
  DEFAULT_OPT_OUT_KEYWORDS,
  KeywordDetector,
} from '../../../src/sms/keywords';

const MG = 'MG' + '0'.repeat(31) + '2';

describe('KeywordDetector', () => {
  const d = new KeywordDetector();

  it.each([...DEFAULT_OPT_OUT_KEYWORDS])('detects the opt-out keyword %s', (k) => {
    expect(d.detect(k)).toMatchObject({ action: 'opt_out', keyword: k });
  });
  it.each([...DEFAULT_OPT_IN_KEYWORDS])('detects the opt-in keyword %s', (k) => {
    expect(d.detect(k)).toMatchObject({ action: 'opt_in', keyword: k, scope: 'sender' });
  });
  it.each([...DEFAULT_HELP_KEYWORDS])('detects the help keyword %s', (k) => {
    expect(d.detect(k)).toMatchObject({ action: 'help', keyword: k, scope: 'sender' });
  });

  it('ignores case and surrounding whitespace', () => {
    expect(d.detect('  stop\n')).toEqual({ action: 'opt_out', keyword: 'STOP', scope: 'sender' });
    expect(d.detect('\tUnSubScribe ')).toMatchObject({ keyword: 'UNSUBSCRIBE' });
    expect(d.detect('\u00a0help\u2003')).toMatchObject({ action: 'help' });
  });

  it('STOPALL is account-wide, other opt-outs are per sender', () => {
    expect(d.detect('stopall')).toEqual({ action: 'opt_out', keyword: 'STOPALL', scope: 'account' });
    expect(d.detect('STOP')!.scope).toBe('sender');
  });

  it.each(['STOP please', 'please stop', 'STOP.', 'S T O P', 'stopp', '', '   ', 'I want to stop', 'STOP ALL'])(
    'does not treat %j as a keyword (single word only)',
    (body) => {
      expect(d.detect(body)).toBeUndefined();
    },
  );

  it('does not even look at long bodies', () => {
    expect(d.detect(' '.repeat(5000) + 'STOP')).toBeUndefined();
  });

  it('adds configured extras without removing the defaults', () => {
    const x = new KeywordDetector({ extraOptOut: ['arret', 'Baja'], extraOptIn: ['subscribe'], extraHelp: ['aide'] });
    expect(x.detect('ARRET')).toMatchObject({ action: 'opt_out', scope: 'sender' });
    expect(x.detect('baja')).toMatchObject({ action: 'opt_out' });
    expect(x.detect('Subscribe')).toMatchObject({ action: 'opt_in' });
    expect(x.detect('AIDE')).toMatchObject({ action: 'help' });
    expect(x.detect('STOP')).toMatchObject({ action: 'opt_out' });
    expect(x.keywords('opt_in')).toEqual(['START', 'YES', 'UNSTOP', 'SUBSCRIBE']);
  });

  it('matches accented extras whatever their Unicode normalisation', () => {
    const x = new KeywordDetector({ extraOptOut: ['ARRÊT'] });
    expect(x.detect('arre\u0302t')).toMatchObject({ action: 'opt_out', keyword: 'ARRÊT' });
  });

  it.each([
    [{ extraOptOut: ['STOP NOW'] }, /single words/],
    [{ extraOptIn: [''] }, /single words/],
    [{ extraOptIn: ['STOP'] }, /already an opt-out keyword/],
    [{ extraHelp: ['start'] }, /already an opt-in keyword/],
    [{ extraOptOut: ['x'], extraHelp: ['X'] }, /extraHelp: keyword X is already an opt-out keyword/],
  ])('refuses %j as a non-retriable configuration error', (options, message) => {
    let caught: unknown;
    try {
      new KeywordDetector(options);
    } catch (err) {
      caught = err;
    }
    expect(String(caught)).toMatch(message);
    expect((caught as { code: string }).code).toBe('IE_CONFIG_INVALID');
    expect(isRetriable(caught)).toBe(false);
  });
});

describe('consentScopeFor', () => {
  it('maps a keyword to the scope of the message it arrived in', () => {
    expect(consentScopeFor({ scope: 'account' }, { to: '+14155550100', messagingServiceSid: MG })).toEqual({
      kind: 'account',
    });
    expect(consentScopeFor({ scope: 'sender' }, { to: '+14155550100', messagingServiceSid: MG })).toEqual({
      kind: 'messaging_service',
      messagingServiceSid: MG,
    });
    expect(consentScopeFor({ scope: 'sender' }, { to: '+14155550100' })).toEqual({
      kind: 'sender',
      sender: '+14155550100',
    });
    expect(consentScopeFor({ scope: 'sender' }, {})).toBeUndefined();
  });
});

describe('actionFromOptOutType', () => {
  it('maps Twilio OptOutType', () => {
    expect(actionFromOptOutType('STOP')).toBe('opt_out');
    expect(actionFromOptOutType('start')).toBe('opt_in');
    expect(actionFromOptOutType('HELP')).toBe('help');
    expect(actionFromOptOutType('OTHER')).toBeUndefined();
    expect(actionFromOptOutType(undefined)).toBeUndefined();
  });
});
