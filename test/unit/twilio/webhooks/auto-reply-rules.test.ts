import { IngressEgressError } from '../../../../src/errors';
import { SmsValidator } from '../../../../src/sms';
import { AutoReplyRules, compilePattern } from '../../../../src/twilio/webhooks/auto-reply-rules';

const validator = new SmsValidator({ maxSegments: 10 });
const SHOP = '+14155550100';
const OTHER = '+14155550199';
const CUSTOMER = '+14155550123';

function problemsOf(doc: unknown): string[] {
  try {
    AutoReplyRules.from(doc, validator);
  } catch (err) {
    expect(err).toBeInstanceOf(IngressEgressError);
    return ((err as IngressEgressError).details as { problems: string[] }).problems;
  }
  throw new Error('the rules were accepted');
}

describe('AutoReplyRules', () => {
  const rules = AutoReplyRules.from(
    {
      help: 'Acme alerts. Reply STOP to opt out.',
      rules: [{ name: 'hours', keyword: 'hours', reply: 'Open 9 to 5.' }],
      numbers: {
        [SHOP]: {
          help: 'Shop help for {{from}}',
          stop: 'You are unsubscribed from {{to}}.',
          rules: [
            { name: 'order', pattern: '^order\\s+(?<order>\\d{1,10})$', reply: 'Order {{order}} ships today.' },
            { keyword: 'Hours', reply: 'The shop opens at 10.' },
          ],
        },
      },
    },
    validator,
  );

  it('matches a number’s own rules first, then the rules for every number', () => {
    expect(rules.ruleReply({ to: SHOP, from: CUSTOMER, body: '  HOURS ' })).toEqual({
      rule: `${SHOP}#1`,
      kind: 'rule',
      text: 'The shop opens at 10.',
    });
    expect(rules.ruleReply({ to: OTHER, from: CUSTOMER, body: 'hours' })?.text).toBe('Open 9 to 5.');
    expect(rules.ruleReply({ to: OTHER, from: CUSTOMER, body: 'hours please' })).toBeUndefined();
  });

  it('fills named groups of a pattern matched against the lower-cased body', () => {
    expect(rules.ruleReply({ to: SHOP, from: CUSTOMER, body: 'ORDER 1234' })).toMatchObject({
      rule: 'order',
      text: 'Order 1234 ships today.',
    });
    expect(rules.ruleReply({ to: OTHER, from: CUSTOMER, body: 'order 1234' })).toBeUndefined();
  });

  it('answers HELP with the number’s text, else the file’s; STOP only where configured', () => {
    expect(rules.keywordReply('help', { to: SHOP, from: CUSTOMER, body: 'HELP' })?.text).toBe(
      `Shop help for ${CUSTOMER}`,
    );
    expect(rules.keywordReply('help', { to: OTHER, from: CUSTOMER, body: 'HELP' })?.text).toBe(
      'Acme alerts. Reply STOP to opt out.',
    );
    expect(rules.keywordReply('stop', { to: SHOP, from: CUSTOMER, body: 'STOP' })?.text).toBe(
      `You are unsubscribed from ${SHOP}.`,
    );
    expect(rules.keywordReply('stop', { to: OTHER, from: CUSTOMER, body: 'STOP' })).toBeUndefined();
    expect(rules.keywordReply('start', { to: SHOP, from: CUSTOMER, body: 'START' })).toBeUndefined();
  });

  it('reports every bad entry at once, one line each, with its path', () => {
    const problems = problemsOf({
      help: '',
      rules: [
        { keyword: 'a', pattern: 'b', reply: 'x' },
        { pattern: '(a)\\1', reply: 'x' },
        { pattern: '(a+)+$', reply: 'x' },
        { pattern: '[', reply: 'x' },
        { keyword: 'k', reply: 'Hi {{name}}' },
        { pattern: 'Hello', reply: 'x' },
      ],
      numbers: { '4155550100': { rules: [] }, [SHOP]: { rules: [{ keyword: 'x', reply: 'y', extra: 1 }] } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'help: must not be empty',
        'rules.0: needs exactly one of keyword or pattern',
        expect.stringMatching(/^numbers\.\+14155550100\.rules\.0: Unrecognized key/),
      ]),
    );
    // The structural errors stop the file before the rule-by-rule checks; those are reported on their own.
    const semantic = problemsOf({
      rules: [
        { pattern: '(a)\\1', reply: 'x' },
        { pattern: '(?=a)a', reply: 'x' },
        { pattern: '[', reply: 'x' },
        { keyword: 'k', reply: 'Hi {{name}}' },
        { pattern: 'Hello', reply: 'x' },
        { pattern: '(?<from>\\d+)', reply: 'x' },
      ],
      numbers: { '4155550100': { rules: [] } },
    });
    expect(semantic).toEqual([
      expect.stringMatching(/^rules\.0\.pattern: cannot be matched in linear time/),
      expect.stringMatching(/^rules\.1\.pattern: cannot be matched in linear time/),
      expect.stringMatching(/^rules\.2\.pattern: is not a valid regular expression/),
      'rules.3.reply: uses {{name}}; the variables are {{from}}, {{to}}, {{body}}',
      'rules.4.pattern: is matched against the lower-cased body: write its letters in lower case',
      'rules.5.pattern: names a group "from", which is one of the built-in variables',
      'numbers.4155550100: the key must be an E.164 number such as +15551234567',
    ]);
  });

  it('refuses a reply longer than the body rules allow', () => {
    expect(problemsOf({ help: 'x'.repeat(1601) })).toEqual(['help: is longer than 1600 characters']);
    const short = new SmsValidator({ maxSegments: 1 });
    expect(() => AutoReplyRules.from({ help: 'x'.repeat(200) }, short)).toThrow(/help:/);
  });

  it('refuses a pattern longer than 200 characters', () => {
    expect(problemsOf({ rules: [{ pattern: 'a'.repeat(201), reply: 'x' }] })).toEqual([
      'rules.0.pattern: is longer than 200',
    ]);
  });
});

describe('compilePattern', () => {
  it('accepts escapes in upper case and runs in linear time on a hostile body', () => {
    const c = compilePattern('^(a|a)*\\D$');
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    // Exponential for a backtracking engine; the linear engine answers at once.
    expect(c.regex.test('a'.repeat(5000) + '1')).toBe(false);
  });
});
