import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IngressEgressError } from '../../../../src/errors';
import { VoiceRouting } from '../../../../src/twilio/voice/voice-routing';

const problemsOf = (doc: unknown): string[] => {
  try {
    VoiceRouting.from(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(IngressEgressError);
    expect((err as IngressEgressError).code).toBe('IE_CONFIG_INVALID');
    return ((err as IngressEgressError).details as { problems: string[] }).problems;
  }
  throw new Error('expected the routing to be refused');
};

describe('VoiceRouting', () => {
  const routing = VoiceRouting.from({
    rules: { desk: { action: 'forward', to: '+14155550199', record: true } },
    numbers: { '+14155550100': 'desk', '+14155550101': { action: 'voicemail', transcribe: true } },
    default: { action: 'busy' },
  });

  it('routes by called number, with defaults filled in, else the default', () => {
    expect(routing.forCall('+14155550100')).toEqual({
      name: 'desk',
      rule: { action: 'forward', to: '+14155550199', record: true, timeoutSecs: 20 },
    });
    expect(routing.forCall('+14155550101')).toEqual({
      name: '+14155550101',
      rule: { action: 'voicemail', transcribe: true, maxLengthSecs: 120, finishOnKey: '#', playBeep: true },
    });
    expect(routing.forCall('+19995550000')).toEqual({ name: 'default', rule: { action: 'busy' } });
    expect(routing.forCall(undefined).name).toBe('default');
  });

  it('finds rules by name (rules, listed numbers, default)', () => {
    expect(routing.byName('desk')?.rule.action).toBe('forward');
    expect(routing.byName('+14155550101')?.rule.action).toBe('voicemail');
    expect(routing.byName('default')?.rule.action).toBe('busy');
    expect(routing.byName('nope')).toBeUndefined();
  });

  it('names every bad entry, one problem each, with its path', () => {
    const problems = problemsOf({
      rules: { desk: { action: 'forward', to: '0123' }, vm: { action: 'voicemail', maxLengthSecs: 0, colour: 'red' } },
      numbers: {
        '+14155550100': 'missing-rule',
        'not-a-number': { action: 'busy' },
        '+14155550101': { action: 'dance' },
        '+14155550102': { action: 'voicemail', finishOnKey: 'x' },
      },
      default: 'desk',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\.desk\.to: /),
        expect.stringMatching(/^rules\.vm\.maxLengthSecs: /),
        'rules.vm: unknown field colour',
        expect.stringMatching(/^numbers\.not-a-number/),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  it('lists the problems of every rule and every number in one error', () => {
    const problems = problemsOf({
      rules: { desk: { action: 'forward', to: '0123' } },
      numbers: { '+14155550100': 'missing-rule', '+14155550101': { action: 'dance' }, '+14155550102': 'desk' },
      default: { action: 'reject' },
    });
    expect(problems).toEqual([
      'rules.desk.to: must be an E.164 number such as +15551234567',
      'numbers.+14155550100: names rule "missing-rule", which `rules` does not define',
      'numbers.+14155550101.action: must be forward, voicemail, reject or busy',
    ]);
  });

  it('checks inline rules and rule names once the file shape is right', () => {
    const problems = problemsOf({
      rules: { desk: { action: 'forward', to: '+14155550199' } },
      numbers: {
        '+14155550100': 'missing-rule',
        '+14155550101': { action: 'dance' },
        '+14155550102': { action: 'voicemail', finishOnKey: 'x' },
      },
      default: { action: 'forward' },
    });
    expect(problems).toEqual([
      'numbers.+14155550100: names rule "missing-rule", which `rules` does not define',
      'numbers.+14155550101.action: must be forward, voicemail, reject or busy',
      'numbers.+14155550102.finishOnKey: must be digits, # or *',
      expect.stringMatching(/^default\.to: /),
    ]);
  });

  it('requires a default', () => {
    expect(problemsOf({ numbers: {} })).toEqual([expect.stringMatching(/^default: /)]);
  });

  it('loads YAML and JSON files; without a file every call goes to voicemail', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'routing-'));
    writeFileSync(path.join(dir, 'r.yaml'), 'default:\n  action: reject\n');
    writeFileSync(path.join(dir, 'r.json'), JSON.stringify({ default: { action: 'busy' } }));
    expect(VoiceRouting.load(path.join(dir, 'r.yaml')).forCall('+1').rule.action).toBe('reject');
    expect(VoiceRouting.load(path.join(dir, 'r.json')).forCall('+1').rule.action).toBe('busy');
    expect(VoiceRouting.load(undefined).forCall('+1').rule.action).toBe('voicemail');
    expect(() => VoiceRouting.load(path.join(dir, 'missing.yaml'))).toThrow(/VOICE_ROUTING_FILE .* cannot be read/);
    writeFileSync(path.join(dir, 'bad.yaml'), 'default: [unclosed');
    expect(() => VoiceRouting.load(path.join(dir, 'bad.yaml'))).toThrow(/is not valid YAML or JSON/);
  });
});
