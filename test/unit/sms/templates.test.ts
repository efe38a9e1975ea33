import { isRetriable } from '../../../src/errors';
import { TemplateDefinitionError, TemplateRegistry } from '../../../src/sms/templates';
import { SmsValidator } from '../../../src/sms/validate';

const validator = new SmsValidator({ maxSegments: 2 });

function registry() {
  return new TemplateRegistry({ validator }, [
    {
      name: 'otp',
      body: 'Your code is {{code}}. It expires in {{ minutes }} minutes.',
      variables: ['code', 'minutes'],
    },
    {
      name: 'order.shipped',
      body: 'Hi {{name}}, order #{{order}} shipped.',
      variables: { name: { type: 'string', maxLength: 20 }, order: { type: 'number' } },
    },
    { name: 'static', body: 'Reply STOP to opt out', variables: [] },
  ]);
}

describe('TemplateRegistry.render', () => {
  it('renders declared variables, with or without spaces in the braces', () => {
    expect(registry().render('otp', { code: '123456', minutes: 10 })).toMatchObject({
      ok: true,
      body: 'Your code is 123456. It expires in 10 minutes.',
      encoding: { encoding: 'GSM-7', segments: 1 },
    });
    expect(registry().render('static', {})).toMatchObject({ ok: true, body: 'Reply STOP to opt out' });
  });

  it('rejects an unknown template', () => {
    expect(registry().render('nope', {})).toMatchObject({ ok: false, code: 'SMS_TEMPLATE_UNKNOWN' });
  });

  it('rejects missing variables (undefined or null) and names them', () => {
    const r = registry().render('otp', { code: '1', minutes: null });
    expect(r).toEqual({ ok: false, code: 'SMS_TEMPLATE_VARIABLE_MISSING', reason: 'template "otp" needs "minutes"' });
  });

  it('rejects extra variables', () => {
    expect(registry().render('otp', { code: '1', minutes: 2, coupon: 'X' })).toMatchObject({
      ok: false,
      code: 'SMS_TEMPLATE_VARIABLE_EXTRA',
      reason: 'template "otp" does not declare "coupon"',
    });
  });

  it('rejects values of the wrong type, non-finite numbers and over-long values without quoting them', () => {
    const r = registry();
    expect(r.render('order.shipped', { name: 'Ann', order: '42' })).toMatchObject({
      code: 'SMS_TEMPLATE_VARIABLE_INVALID',
      reason: 'variable "order" must be a number',
    });
    expect(r.render('order.shipped', { name: 'Ann', order: Infinity })).toMatchObject({
      code: 'SMS_TEMPLATE_VARIABLE_INVALID',
    });
    const long = r.render('order.shipped', { name: 'A very long secret name here', order: 1 });
    expect(long).toMatchObject({ code: 'SMS_TEMPLATE_VARIABLE_INVALID' });
    if (!long.ok) expect(long.reason).not.toContain('secret');
  });

  it('rejects output that breaks the body rules', () => {
    const r = registry();
    expect(r.render('otp', { code: 'x'.repeat(400), minutes: 1 })).toMatchObject({
      ok: false,
      code: 'SMS_TOO_MANY_SEGMENTS',
    });
    r.register({ name: 'blank', body: '{{x}}', variables: ['x'] });
    expect(r.render('blank', { x: '  ' })).toMatchObject({ ok: false, code: 'SMS_BODY_EMPTY' });
  });

  it('never interprets placeholders inside values', () => {
    expect(registry().render('otp', { code: '{{minutes}}', minutes: 5 })).toMatchObject({
      ok: true,
      body: 'Your code is {{minutes}}. It expires in 5 minutes.',
    });
  });

  it('follows the escaping rules', () => {
    const r = registry();
    r.register({ name: 'esc', body: 'Literal \\{{x}} then \\\\{{x}} and {single} }} a\\b', variables: ['x'] });
    expect(r.render('esc', { x: 'V' })).toMatchObject({
      ok: true,
      body: 'Literal {{x}} then \\V and {single} }} a\\b',
    });
  });

  it('applies smart encoding when asked', () => {
    const r = registry();
    r.register({ name: 'q', body: '{{t}}', variables: ['t'] });
    expect(r.render('q', { t: '“hi”' })).toMatchObject({ ok: true, encoding: { encoding: 'UCS-2' } });
    expect(r.render('q', { t: '“hi”' }, { smartEncoded: true })).toMatchObject({
      ok: true,
      body: '“hi”',
      encoding: { encoding: 'GSM-7' },
    });
  });
});

describe('TemplateRegistry.register', () => {
  it.each([
    [{ name: 'a', body: 'Hi {{name}}', variables: [] }, /not declared/],
    [{ name: 'a', body: 'Hi', variables: ['name'] }, /never used/],
    [{ name: 'a', body: 'Hi {{ 1x }}', variables: [] }, /does not start/],
    [{ name: 'a', body: 'Hi {{name', variables: ['name'] }, /does not start/],
    [{ name: 'a b', body: 'Hi', variables: [] }, /name/],
    [{ name: 'a', body: 'Hi {{x-y}}', variables: ['x-y'] }, /valid identifier/],
  ])('refuses %j', (definition, message) => {
    const r = new TemplateRegistry({ validator });
    expect(() => r.register(definition)).toThrow(message);
  });

  it('refuses duplicates unless replacing, and the error is a non-retriable configuration error', () => {
    const r = registry();
    let caught: unknown;
    try {
      r.register({ name: 'otp', body: 'x', variables: [] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateDefinitionError);
    expect((caught as TemplateDefinitionError).code).toBe('IE_CONFIG_INVALID');
    expect(isRetriable(caught)).toBe(false);
    r.register({ name: 'otp', body: 'new', variables: [] }, { replace: true });
    expect(r.render('otp', {})).toMatchObject({ ok: true, body: 'new' });
  });

  it('lists names and variables', () => {
    const r = registry();
    expect(r.names()).toEqual(['otp', 'order.shipped', 'static']);
    expect(r.variablesOf('order.shipped')).toEqual(['name', 'order']);
    expect(r.variablesOf('nope')).toBeUndefined();
    expect(r.has('otp')).toBe(true);
  });
});
